/** Every EVE record Vigil writes validates against Suricata's published EVE schema (strict). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { SHARED_DIR, findFiles, tempDir } from '../helpers/paths.js';
import { mapLimit, runCli } from '../helpers/reference.js';

const require = createRequire(import.meta.url);
// ajv's 2020-12 build, per data/eve-schema/README.md.
const Ajv2020 = require('ajv/dist/2020') as new (opts: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null };
};

const schemaPath = path.join(SHARED_DIR, 'data', 'eve-schema', 'schema.json');

test(
  'EVE alert, flow, http, dns, tls, ssh, ftp, smtp, fileinfo and stats records validate against Suricata schema',
  { skip: !fs.existsSync(schemaPath) && 'schema missing' },
  async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: false });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as object);
    const files = [
      ...findFiles(path.join(SHARED_DIR, 'corpus'), /\.pcap$/).slice(0, 4),
      ...findFiles(path.join(SHARED_DIR, 'data', 'pcaps'), /\.(pcap|pcapng)$/),
      ...findFiles(path.join(SHARED_DIR, 'data', 'community-id'), /\.pcap$/),
      // Suricata's own cases for decoder events, fragments and tunnels: stats with events and defrag counters.
      ...findFiles(path.join(SHARED_DIR, 'data', 'suricata-verify'), /\.pcap$/).filter((f) =>
        /(decode|defrag|gre|vxlan|ipv6|frag)/i.test(path.basename(path.dirname(f))),
      ),
    ];
    const dir = tempDir();
    const problems: string[] = [];
    const seen = new Set<string>();
    let statsSeen = 0;
    await mapLimit(files, 2, async (file) => {
      // Unique per file: several suricata-verify captures share a basename (input.pcap), and two
      // runs writing one EVE path at once was a flaky failure here.
      const eve = path.join(dir, `${files.indexOf(file)}-${path.basename(file)}.json`);
      const r = await runCli(['analyze', '--json', '--eve', eve, file]);
      assert.equal(r.code, 0, r.stderr);
      const lines = fs.readFileSync(eve, 'utf8').split('\n').filter(Boolean);
      assert.ok(lines.length > 0);
      const last = JSON.parse(lines[lines.length - 1]!) as { event_type: string };
      assert.equal(last.event_type, 'stats', 'the final record is a stats event');
      for (const line of lines) {
        const ev = JSON.parse(line) as { event_type: string; community_id?: string };
        seen.add(ev.event_type);
        if (ev.event_type === 'flow') assert.match(ev.community_id ?? '', /^1:[A-Za-z0-9+/]{27}=$/);
        if (ev.event_type === 'stats') statsSeen++;
        if (!validate(ev) && problems.length < 10) {
          problems.push(`${path.basename(file)}: ${JSON.stringify(validate.errors)} in ${line.slice(0, 300)}`);
        }
      }
    });
    fs.rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(problems, []);
    for (const t of ['alert', 'dns', 'fileinfo', 'flow', 'ftp', 'http', 'smtp', 'ssh', 'stats', 'tls'])
      assert.ok(seen.has(t), `no ${t} record seen (seen: ${[...seen].sort().join(', ')})`);
    assert.equal(statsSeen, files.length);
  },
);
