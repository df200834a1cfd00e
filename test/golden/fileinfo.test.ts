/**
 * HTTP fileinfo: every file Vigil reports as complete has the SHA-256 of an object tshark exports
 * from the same capture (`--export-objects http`), and its EICAR test file has the known MD5.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SHARED_DIR, tempDir } from '../helpers/paths.js';
import { haveTool, runCli } from '../helpers/reference.js';

const captures = [
  path.join(SHARED_DIR, 'corpus', 'sql_injection.pcap'),
  path.join(SHARED_DIR, 'data', 'suricata-verify', 'http-evader__http-evader-012', 'input.pcap'),
].filter((f) => fs.existsSync(f));

function fileinfos(eve: string): { filename: string; state: string; sha256?: string; md5?: string; size: number }[] {
  return fs
    .readFileSync(eve, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"event_type":"fileinfo"'))
    .map(
      (l) =>
        (
          JSON.parse(l) as {
            fileinfo: { filename: string; state: string; sha256?: string; md5?: string; size: number };
          }
        ).fileinfo,
    );
}

test(
  'HTTP files match tshark export-objects by SHA-256',
  { skip: !haveTool('tshark') || captures.length === 0 },
  async () => {
    let compared = 0;
    for (const cap of captures) {
      const dir = tempDir();
      const exp = path.join(dir, 'objects');
      fs.mkdirSync(exp);
      execFileSync('tshark', ['-r', cap, '-q', '--export-objects', `http,${exp}`], { stdio: 'ignore' });
      const ref = new Set(
        fs.readdirSync(exp).map((f) =>
          createHash('sha256')
            .update(fs.readFileSync(path.join(exp, f)))
            .digest('hex'),
        ),
      );
      const eve = path.join(dir, 'eve.json');
      const big = 'app-layer.protocols.http.libhtp.default-config.response-body-limit=64mb';
      const r = await runCli([
        'analyze',
        cap,
        '--workers',
        '1',
        '-k',
        'none',
        '--set',
        big,
        '--eve',
        eve,
        '--no-builtin-rules',
      ]);
      assert.equal(r.code, 0, r.stderr);
      for (const f of fileinfos(eve)) {
        if (f.state !== 'CLOSED') continue;
        assert.ok(ref.has(f.sha256!), `${path.basename(cap)}: ${f.filename} (${f.size} B) not among tshark's objects`);
        compared++;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.ok(compared > 0);
  },
);

test(
  'the EICAR test file carried in chunks is named from Content-Disposition and hashed',
  { skip: captures.length < 2 },
  async () => {
    const dir = tempDir();
    const eve = path.join(dir, 'eve.json');
    const r = await runCli([
      'analyze',
      captures[1]!,
      '--workers',
      '1',
      '-k',
      'none',
      '--eve',
      eve,
      '--no-builtin-rules',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const f = fileinfos(eve).find((x) => x.filename === 'eicar.txt');
    // The published MD5 of the EICAR anti-virus test file.
    assert.equal(f?.md5, '44d88612fea8a8f36de82e1278abb02f');
    assert.equal(f?.state, 'CLOSED');
  },
);
