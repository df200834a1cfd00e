/**
 * Real traffic: the TCP payloads of the HTTP flows of corpus captures, extracted with tshark and
 * fed per direction in packet order, give the method, URI, host and status tshark decodes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { SHARED_DIR } from '../../../test/helpers/paths.js';
import { HttpConnection } from './parser.js';

const hasTshark = spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;

function tshark(file: string, args: string[]): string[][] {
  const r = spawnSync('tshark', ['-r', file, '-n', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

for (const name of ['sql_injection.pcap', 'xss.pcap']) {
  const file = path.join(SHARED_DIR, 'corpus', name);
  test(
    `corpus: ${name} matches tshark`,
    { skip: (!hasTshark || !fs.existsSync(file)) && 'tshark or capture missing' },
    () => {
      // Payload segments in capture order, without retransmissions.
      const segs = tshark(file, [
        '-Y',
        'tcp.len>0 && !tcp.analysis.retransmission',
        '-T',
        'fields',
        '-e',
        'tcp.stream',
        '-e',
        'tcp.srcport',
        '-e',
        'tcp.payload',
        '-o',
        'tcp.desegment_tcp_streams:FALSE',
      ]);
      const conns = new Map<string, { c: HttpConnection; clientPort: string; got: string[] }>();
      for (const [stream, sport, hex] of segs) {
        let st = conns.get(stream!);
        if (st === undefined) {
          const got: string[] = [];
          const c = new HttpConnection({
            onTransaction: (tx) => got.push([tx.method, tx.uriRaw, tx.host, tx.status].join(' ')),
          });
          st = { c, clientPort: sport!, got }; // the first payload comes from the client
          conns.set(stream!, st);
        }
        const data = Buffer.from(hex!.replace(/:/g, ''), 'hex');
        st.c.feed(sport === st.clientPort ? 0 : 1, data, 0, data.length, 0);
      }
      for (const st of conns.values()) st.c.close();
      const req = tshark(file, [
        '-Y',
        'http.request',
        '-T',
        'fields',
        '-e',
        'tcp.stream',
        '-e',
        'http.request.method',
        '-e',
        'http.request.uri',
        '-e',
        'http.host',
      ]);
      const resp = tshark(file, [
        '-Y',
        'http.response',
        '-T',
        'fields',
        '-e',
        'tcp.stream',
        '-e',
        'http.response.code',
      ]);
      const want = new Map<string, string[]>();
      const codes = new Map<string, string[]>();
      for (const [s, code] of resp) codes.set(s!, [...(codes.get(s!) ?? []), code!]);
      for (const [s, m, u, h] of req) {
        const i = want.get(s!)?.length ?? 0;
        const host = (h ?? '').toLowerCase().replace(/:\d+$/, '');
        want.set(s!, [...(want.get(s!) ?? []), [m, u, host, codes.get(s!)?.[i] ?? '-1'].join(' ')]);
      }
      assert.ok(want.size > 0);
      let n = 0;
      for (const [s, list] of want) {
        assert.deepEqual(conns.get(s)?.got, list, `stream ${s}`);
        n += list.length;
      }
      assert.ok(n >= 10, `${n} transactions`);
    },
  );
}
