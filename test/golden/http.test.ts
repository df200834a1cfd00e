/**
 * HTTP transactions that `vigil analyze` reports (EVE `http` events, through TCP reassembly and
 * the HTTP parser) against tshark's HTTP dissector, on every corpus capture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { SHARED_DIR, findFiles, tempDir } from '../helpers/paths.js';
import { haveTool, mapLimit, runCli } from '../helpers/reference.js';

const execFileP = promisify(execFile);
const corpus = findFiles(path.join(SHARED_DIR, 'corpus'), /\.pcap$/);

/** tshark cuts very long field values (sqlmap's padded URIs) in its output: compare a prefix. */
const key = (s: string): string => s.slice(0, 200);

interface HttpEve {
  http: { http_method?: string; url?: string };
}

test(
  'HTTP requests in EVE match tshark on the corpus',
  { skip: !haveTool('tshark') && 'tshark missing' },
  async (t) => {
    const dir = tempDir();
    const problems: string[] = [];
    let total = 0;
    await mapLimit(corpus, 2, async (file) => {
      const name = path.basename(file);
      const eve = path.join(dir, name + '.json');
      const r = await runCli(['analyze', '--json', '--workers', '1', '--eve', eve, file]);
      assert.equal(r.code, 0, r.stderr);
      const ours = fs
        .readFileSync(eve, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"event_type":"http"'))
        .map((l) => JSON.parse(l) as HttpEve);
      // HTTP over TCP only (tshark also dissects SSDP's HTTP-over-UDP). With header desegmentation
      // off, tshark reports a request where its request line starts, as Vigil (and Suricata) do even
      // when the headers never complete (slowloris); with it on, tshark shows only complete requests.
      const { stdout } = await execFileP(
        'tshark',
        [
          '-n',
          '-o',
          'http.desegment_headers:FALSE',
          '-r',
          file,
          '-Y',
          'tcp && http.request',
          '-T',
          'fields',
          '-e',
          'http.request.method',
          '-e',
          'http.request.uri',
        ],
        { maxBuffer: 1 << 28, encoding: 'utf8' },
      );
      const ref = stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => key(l.replace('\t', ' ')));
      total += ref.length;
      // The same requests, method and URI, in any order.
      const unmatched = new Map<string, number>();
      for (const k of ref) unmatched.set(k, (unmatched.get(k) ?? 0) + 1);
      for (const e of ours) {
        const k = key(`${e.http.http_method ?? ''} ${e.http.url ?? ''}`);
        const n = unmatched.get(k) ?? 0;
        if (n > 0) unmatched.set(k, n - 1);
        else problems.push(`${name}: "${k}" not in tshark`);
      }
      for (const [k, n] of unmatched) if (n > 0) problems.push(`${name}: missing ${n} x "${k}"`);
    });
    fs.rmSync(dir, { recursive: true, force: true });
    t.diagnostic(`${total} HTTP requests compared`);
    assert.ok(total > 1000, `only ${total} requests in the corpus`);
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} differences`);
  },
);
