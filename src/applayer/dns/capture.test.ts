/**
 * Real captures: the DNS payloads of Zeek's test pcaps, parsed and compared with tshark's reading
 * of the same packets (query names and types, rcode, answer count); their EVE objects validate
 * against the schema. Skipped without tshark.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { SHARED_DIR } from '../../../test/helpers/paths.js';
import { isDnsError, parseDnsMessage, probeDns } from './parser.js';
import { dnsEveObjects } from './eve.js';

const PCAPS = ['dns53.pcap', 'dns-edns-ecs.pcap', 'dns_mdns.pcap'].map((f) =>
  path.join(SHARED_DIR, 'data', 'pcaps', 'zeek', f),
);
const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020') as new (opts: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null };
};
const schemaPath = path.join(SHARED_DIR, 'data', 'eve-schema', 'schema.json');
const validate = fs.existsSync(schemaPath)
  ? new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as object)
  : null;
const tshark = spawnSync('tshark', ['-v'], { encoding: 'utf8' });
const noTshark = tshark.error !== undefined || tshark.status !== 0;

/** One tab-separated line per DNS packet: payload hex, names, types, rcode, answer count. */
function tsharkRows(file: string): string[][] {
  const r = spawnSync(
    'tshark',
    [
      '-r',
      file,
      '-Y',
      'udp && (dns || mdns)',
      '-T',
      'fields',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=,',
      '-e',
      'udp.payload',
      '-e',
      'dns.qry.name',
      '-e',
      'dns.qry.type',
      '-e',
      'dns.flags.rcode',
      '-e',
      'dns.count.answers',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

for (const file of PCAPS) {
  test(
    `capture: ${path.basename(file)} matches tshark`,
    { skip: (noTshark && 'tshark missing') || (!fs.existsSync(file) && 'capture missing') },
    () => {
      const rows = tsharkRows(file);
      assert.ok(rows.length > 0);
      for (const [hex, names, types, rcode, answers] of rows) {
        const buf = Buffer.from(hex!, 'hex');
        const m = parseDnsMessage(buf, 0, buf.length);
        assert.ok(!isDnsError(m), `${hex}: ${JSON.stringify(m)}`);
        assert.ok(probeDns(buf, 0, buf.length, false), hex);
        // tshark shows the root as <Root>; the fields are empty when there are no questions.
        const qn = m.questions.map((q) => (q.name === '' ? '<Root>' : q.name)).join(',');
        assert.equal(qn, names, hex);
        assert.equal(m.questions.map((q) => q.type).join(','), types);
        // tshark writes dns.flags.rcode for responses only.
        if (rcode !== '') assert.equal(String(m.flags.rcode), rcode);
        assert.equal(String(m.ancount), answers);
        assert.equal(m.answers.length, m.ancount);
        for (const dns of dnsEveObjects(m)) {
          const ev = { timestamp: '2026-11-26T10:30:18.312528+0000', event_type: 'dns', proto: 'UDP', dns };
          if (validate !== null) assert.ok(validate(ev), JSON.stringify(validate.errors));
        }
      }
    },
  );
}
