/**
 * `app-layer.protocols.tls.encryption-handling` (Suricata's default): once a TLS flow's encrypted
 * application data has started, its payload is no longer inspected — content rules stop alerting
 * on its packets, `tls.*` rules and rules without payload matches go on — and `full` inspects
 * everything. The expected packets come from tshark's dissection of the same captures: a content
 * rule on the TLS application-data record header alerts, by default, on a flow's packets up to
 * the first packet of the other side after its first application_data record (Suricata parses a
 * side's data when the other side acknowledges it, and the flag holds from the next packet on).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { SHARED_DIR, tempDir } from '../helpers/paths.js';
import { haveTool, runCli } from '../helpers/reference.js';

const execFileP = promisify(execFile);
const CAPTURES = ['tls_chrome-34-google.pcap', 'tls_client-certificate.pcap'].map((f) =>
  path.join(SHARED_DIR, 'data', 'pcaps', 'zeek', f),
);
const RULES = [
  'alert tcp any any -> any any (msg:"app data record header"; flow:established; content:"|17 03 03|"; sid:1;)',
  // A protocol-only rule: no payload match, so it goes on after the cut-off.
  'alert tls any any -> any any (msg:"tls to server"; flow:to_server,established; sid:2;)',
  'alert tcp any any -> any any (msg:"bare ack"; flow:established; flags:A; dsize:0; sid:3;)',
];

interface Frame {
  n: number;
  stream: number;
  src: string;
  types: string;
  hit: boolean;
}

async function frames(file: string): Promise<Frame[]> {
  const { stdout } = await execFileP(
    'tshark',
    [
      '-n',
      '-r',
      file,
      '-Y',
      'tcp',
      '-T',
      'fields',
      '-E',
      'separator=|',
      '-e',
      'frame.number',
      '-e',
      'tcp.stream',
      '-e',
      'ip.src',
      '-e',
      'tls.record.content_type',
      '-e',
      'tls.handshake.type',
      '-e',
      'tcp.payload',
    ],
    { maxBuffer: 1 << 26 },
  );
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [n, stream, src, types, hs, payload] = l.split('|');
      return {
        n: Number(n),
        stream: Number(stream),
        src: src!,
        types: `${types}/${hs}`,
        hit: hasRecordHeader((payload ?? '').replace(/:/g, '')),
      };
    });
}

/** Bytes 17 03 03 in a hex string, at a byte boundary. */
function hasRecordHeader(hex: string): boolean {
  for (let k = hex.indexOf('170303'); k >= 0; k = hex.indexOf('170303', k + 1)) if (k % 2 === 0) return true;
  return false;
}

/** Frames the content rule alerts on: all (full), or per flow those up to the acknowledgement. */
function expected(fr: Frame[], full: boolean): number[] {
  const out: number[] = [];
  const byStream = new Map<number, Frame[]>();
  for (const f of fr) byStream.set(f.stream, [...(byStream.get(f.stream) ?? []), f]);
  for (const fs_ of byStream.values()) {
    let cutoff = Infinity;
    if (!full) {
      const hello = fs_.findIndex((f) => f.types.split('/')[1]!.split(',').includes('2'));
      const first =
        hello < 0 ? -1 : fs_.findIndex((f, k) => k >= hello && f.types.split('/')[0]!.split(',').includes('23'));
      if (first >= 0) {
        const ack = fs_.find((f, k) => k > first && f.src !== fs_[first]!.src);
        if (ack !== undefined) cutoff = ack.n;
      }
    }
    for (const f of fs_) if (f.hit && f.n <= cutoff) out.push(f.n);
  }
  return out.sort((a, b) => a - b);
}

test(
  'TLS encryption-handling: default stops payload rules after the application data starts, full does not',
  { skip: !haveTool('tshark') && 'tshark missing' },
  async () => {
    const dir = tempDir();
    const rules = path.join(dir, 'tls.rules');
    fs.writeFileSync(rules, RULES.join('\n') + '\n');
    let fewer = 0;
    for (const file of CAPTURES) {
      const fr = await frames(file);
      const got: Record<string, Record<number, number[]>> = {};
      for (const mode of ['default', 'full']) {
        const eve = path.join(dir, `${path.basename(file)}.${mode}.json`);
        const args = ['analyze', file, '--no-builtin-rules', '--no-ml', '--rules', rules, '--eve', eve, '--json'];
        if (mode === 'full') args.push('--set', 'app-layer.protocols.tls.encryption-handling=full');
        const r = await runCli(args);
        assert.equal(r.code, 0, r.stderr);
        const bySid: Record<number, number[]> = { 1: [], 2: [], 3: [] };
        for (const l of fs.readFileSync(eve, 'utf8').split('\n')) {
          if (!l.includes('"event_type":"alert"')) continue;
          const e = JSON.parse(l) as { pcap_cnt: number; alert: { signature_id: number } };
          bySid[e.alert.signature_id]!.push(e.pcap_cnt);
        }
        for (const v of Object.values(bySid)) v.sort((a, b) => a - b);
        got[mode] = bySid;
      }
      const name = path.basename(file);
      assert.deepEqual(got['full']![1], expected(fr, true), `${name}: full`);
      assert.deepEqual(got['default']![1], expected(fr, false), `${name}: default`);
      // The handshake's keyword rule and the payload-free rule do not change.
      assert.ok(got['default']![2]!.length > 0, `${name}: tls rule`);
      assert.deepEqual(got['default']![2], got['full']![2]);
      assert.ok(got['default']![3]!.length > 0, `${name}: ack rule`);
      assert.deepEqual(got['default']![3], got['full']![3]);
      if (got['default']![1]!.length < got['full']![1]!.length) fewer++;
    }
    assert.equal(fewer, CAPTURES.length, 'each capture has application data past the cut-off');
  },
);
