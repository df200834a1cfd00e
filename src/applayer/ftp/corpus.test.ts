/**
 * Real traffic: each FTP control stream (port 21) of the brute-force capture, extracted per
 * direction with tshark's `follow,tcp,raw` and fed segment by segment, gives as many PASS commands
 * and 530 replies as tshark decodes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { SHARED_DIR } from '../../../test/helpers/paths.js';
import { FtpConnection } from './parser.js';
import { probeFtp } from './probe.js';

const hasTshark = spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;
const file = path.join(SHARED_DIR, 'corpus', 'brute_force.pcap');

function tshark(args: string[]): string {
  const r = spawnSync('tshark', ['-r', file, '-n', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function count(filter: string): number {
  return tshark(['-Y', filter, '-T', 'fields', '-e', 'frame.number'])
    .split('\n')
    .filter((l) => l !== '').length;
}

/**
 * Feeds every stream in `streams` from one tshark run (one `follow,tcp,raw` per stream): data lines
 * are segments, a leading tab marks node 1.
 */
function parseStreams(streams: string[]): FtpConnection[] {
  const out = tshark(['-q', ...streams.flatMap((n) => ['-z', `follow,tcp,raw,${n}`])]);
  const conns: FtpConnection[] = [];
  let c: FtpConnection | null = null;
  let node0Server = false;
  const first = [true, true];
  let stream = '';
  for (const line of out.split('\n')) {
    const f = /^Filter: tcp\.stream eq (\d+)$/.exec(line);
    if (f !== null) {
      c?.close();
      c = new FtpConnection();
      conns.push(c);
      stream = f[1]!;
      first[0] = first[1] = true;
      continue;
    }
    // Node 0 is whichever side tshark saw first; the server is the one on port 21.
    const n0 = /^Node 0: .*:(\d+)$/.exec(line);
    if (n0 !== null) node0Server = n0[1] === '21';
    const m = /^(\t?)([0-9a-f]+)$/.exec(line);
    if (m === null || c === null) continue;
    const data = Buffer.from(m[2]!, 'hex');
    const dir: 0 | 1 = (m[1] === '') === node0Server ? 1 : 0;
    if (first[dir] === true) {
      assert.equal(probeFtp(data, 0, data.length, dir), 'yes', `stream ${stream} dir ${dir} probe`);
    }
    first[dir] = false;
    c.feed(dir, data, 0, data.length, 0);
  }
  c?.close();
  return conns;
}

test(
  'corpus: brute_force.pcap FTP logins match tshark',
  { skip: (!hasTshark && 'tshark missing') || (!fs.existsSync(file) && 'capture missing') },
  () => {
    const streams = [
      ...new Set(
        tshark(['-Y', 'tcp.port == 21 && tcp.len > 0', '-T', 'fields', '-e', 'tcp.stream'])
          .split('\n')
          .filter((l) => l !== ''),
      ),
    ];
    assert.ok(streams.length > 0);
    let pass = 0;
    let r530 = 0;
    let failures = 0;
    let successes = 0;
    const conns = parseStreams(streams);
    assert.equal(conns.length, streams.length);
    for (const c of conns) {
      for (const tx of c.drain()) {
        if (tx.command === 'PASS') pass++;
        for (const code of tx.completionCodes) if (code === '530') r530++;
      }
      failures += c.loginFailures;
      successes += c.loginSuccesses;
    }
    const wantPass = count('ftp.request.command == "PASS"');
    const want530 = count('ftp.response.code == 530');
    assert.ok(wantPass > 0);
    assert.equal(pass, wantPass);
    assert.equal(r530, want530);
    assert.equal(failures, want530); // every 530 here answers a USER or PASS
    assert.equal(successes, count('ftp.response.code == 230'));
  },
);
