/**
 * `flags` rules against tshark's view of the same packets. Rules without content reach the
 * detector for every TCP packet (from the address index); the detector skips those whose `flags`
 * check the packet cannot pass before evaluating them (Detector.flagOk), so these counts check
 * that shortcut against an independent reading of the flags: each rule must alert on exactly the
 * packets tshark's filter selects.
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
const CAPTURES = ['port_scan.pcap', 'brute_force.pcap'].map((f) => path.join(SHARED_DIR, 'corpus', f));

// sid -> [rule options, tshark display filter selecting the same packets]
const CASES: [number, string, string][] = [
  [1, 'flags:S;', 'tcp.flags & 0xff == 0x02'],
  [2, 'flags:SA;', 'tcp.flags & 0xff == 0x12'],
  [3, 'flags:R+;', 'tcp.flags.reset == 1'],
  [4, 'flags:*FR;', 'tcp.flags.fin == 1 || tcp.flags.reset == 1'],
  [5, 'flags:!A;', 'tcp.flags.ack == 0'],
  [6, 'flags:A,CE;', 'tcp.flags & 0x3f == 0x10'],
  // Two flags checks on one rule: both must hold.
  [7, 'flags:A+; flags:!P;', 'tcp.flags.ack == 1 && tcp.flags.push == 0'],
];

async function tsharkCount(file: string, filter: string): Promise<number> {
  const { stdout } = await execFileP(
    'tshark',
    ['-n', '-r', file, '-Y', `tcp && (${filter})`, '-T', 'fields', '-e', 'frame.number'],
    {
      maxBuffer: 1 << 26,
    },
  );
  return stdout.split('\n').filter((l) => l !== '').length;
}

test(
  'flags rules alert on exactly the packets tshark selects',
  { skip: !haveTool('tshark') && 'tshark missing' },
  async () => {
    const dir = tempDir();
    const rules = path.join(dir, 'flags.rules');
    fs.writeFileSync(
      rules,
      CASES.map(([sid, opts]) => `alert tcp any any -> any any (msg:"flags ${sid}"; ${opts} sid:${sid};)`).join('\n') +
        '\n',
    );
    for (const file of CAPTURES) {
      if (!fs.existsSync(file)) continue;
      const eve = path.join(dir, `${path.basename(file)}.json`);
      const r = await runCli([
        'analyze',
        file,
        '--no-builtin-rules',
        '--no-ml',
        '--workers',
        '1',
        '--rules',
        rules,
        '--eve',
        eve,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const got = new Map<number, number>();
      for (const l of fs.readFileSync(eve, 'utf8').split('\n')) {
        if (!l.includes('"event_type":"alert"')) continue;
        const sid = (JSON.parse(l) as { alert: { signature_id: number } }).alert.signature_id;
        got.set(sid, (got.get(sid) ?? 0) + 1);
      }
      for (const [sid, , filter] of CASES) {
        const want = await tsharkCount(file, filter);
        assert.equal(got.get(sid) ?? 0, want, `${path.basename(file)} sid ${sid} (${filter})`);
      }
      assert.ok((got.get(1) ?? 0) > 0, 'the capture has SYNs');
    }
  },
);
