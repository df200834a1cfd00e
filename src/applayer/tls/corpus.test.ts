/**
 * Real traffic: each TCP stream of the Zeek TLS captures, extracted per direction with tshark's
 * `follow,tcp,raw` and fed segment by segment, gives the SNI, JA3, JA3S and certificate serials
 * tshark decodes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { SHARED_DIR, findFiles } from '../../../test/helpers/paths.js';
import { TlsConnection } from './parser.js';
import { probeTls } from './probe.js';

const hasTshark = spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;
const files = findFiles(path.join(SHARED_DIR, 'data', 'pcaps', 'zeek'), /^tls_.*\.pcap$/);

function tshark(file: string, args: string[]): string {
  const r = spawnSync('tshark', ['-r', file, '-n', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function fields(file: string, filter: string, names: string[]): string[][] {
  return tshark(file, ['-Y', filter, '-T', 'fields', ...names.flatMap((n) => ['-e', n])])
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/** Feeds stream `n` of `file`: follow output lines are segments, a leading tab marks node 1. */
function parseStream(file: string, n: string): TlsConnection {
  const out = tshark(file, ['-q', '-z', `follow,tcp,raw,${n}`]);
  const c = new TlsConnection();
  let first = true;
  for (const line of out.split('\n')) {
    const m = /^(\t?)([0-9a-f]+)$/.exec(line);
    if (m === null) continue;
    const data = Buffer.from(m[2]!, 'hex');
    if (first) assert.equal(probeTls(data, 0, data.length), 'yes', `${file} stream ${n} probe`);
    first = false;
    c.feed(m[1] === '' ? 0 : 1, data, 0, data.length, 0);
  }
  return c;
}

if (files.length === 0) test('corpus: Zeek TLS captures', { skip: 'captures missing' }, () => {});

for (const file of files) {
  test(`corpus: ${path.basename(file)} matches tshark`, { skip: !hasTshark && 'tshark missing' }, () => {
    // One pass over the hellos and certificates: stream, source port, handshake types, SNI, JA3, JA3S, serials.
    const rows = fields(file, 'tls.handshake.type==1 || tls.handshake.type==2 || tls.handshake.type==11', [
      'tcp.stream',
      'tcp.srcport',
      'tls.handshake.type',
      'tls.handshake.extensions_server_name',
      'tls.handshake.ja3',
      'tls.handshake.ja3s',
      'x509af.serialNumber',
    ]);
    const want = new Map<
      string,
      { sni: string; ja3: string; ja3s: string; srvPort: string; serials: Map<string, string> }
    >();
    for (const [s, port, types, sni, ja3, ja3s, serials] of rows) {
      const t = types!.split(',');
      let w = want.get(s!);
      if (w === undefined) {
        w = { sni: '', ja3: '', ja3s: '', srvPort: '', serials: new Map() };
        want.set(s!, w);
      }
      if (t.includes('1') && w.ja3 === '') {
        w.sni = sni ?? '';
        w.ja3 = ja3!;
      }
      if (t.includes('2') && w.ja3s === '') {
        w.ja3s = ja3s!;
        w.srvPort = port!;
      }
      // The first certificate of each side's chain.
      if (t.includes('11') && !w.serials.has(port!)) w.serials.set(port!, (serials ?? '').split(',')[0]!);
    }
    assert.ok(want.size > 0);
    let certs = 0;
    for (const [s, w] of want) {
      if (w.ja3 === '') continue; // the capture starts after the ClientHello
      const { info } = parseStream(file, s);
      assert.ok(info.clientHello, `stream ${s}`);
      assert.equal(info.sni, w.sni, `stream ${s} sni`);
      assert.equal(info.ja3Hash, w.ja3, `stream ${s} ja3`);
      if (w.ja3s !== '') assert.equal(info.ja3sHash, w.ja3s, `stream ${s} ja3s`);
      for (const [port, serial] of w.serials) {
        const cert = port === w.srvPort ? info.cert : info.clientCert;
        assert.equal(cert?.serial.replace(/:/g, '').toLowerCase(), serial, `stream ${s} serial from port ${port}`);
        certs++;
      }
    }
    if (path.basename(file) === 'tls_client-certificate.pcap') assert.equal(certs, 2); // server and client
  });
}
