import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SHARED_DIR, tempDir } from '../../test/helpers/paths.js';
import { CliError } from './errors.js';
import { rulesUpdateCommand } from './rules-update.js';
import type { CommandIo } from './rules-update.js';

const rule = (sid: number, extra = ''): string =>
  `alert tcp any any -> any any (msg:"r${sid}"; content:"x${sid}"; ${extra}sid:${sid}; rev:1;)`;

/** Run the command in-process, capturing what it prints. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CommandIo = { out: (s) => void (out += s), err: (s) => void (err += s) };
  const code = await rulesUpdateCommand(args, io);
  return { code, out, err };
}

/** A source file, a conf dir with all four filter files, and a data dir. */
function fixture(): { dir: string; src: string; conf: string; data: string; out: string } {
  const dir = tempDir('vigil-rupd-cli-');
  const src = path.join(dir, 'local.rules');
  fs.writeFileSync(src, [rule(1), rule(2), '# ' + rule(3), rule(4), rule(5, 'lua:x; ')].join('\n') + '\n');
  const conf = path.join(dir, 'conf');
  fs.mkdirSync(conf);
  fs.writeFileSync(path.join(conf, 'disable.conf'), '1:1\n');
  fs.writeFileSync(path.join(conf, 'enable.conf'), 're:"r3"\n');
  fs.writeFileSync(path.join(conf, 'drop.conf'), 'group:local\n');
  fs.writeFileSync(path.join(conf, 'modify.conf'), '4 "content:\\"(x)4\\"" "content:\\"\\1\\1\\""\n');
  const data = path.join(dir, 'data');
  return { dir, src, conf, data, out: path.join(data, 'rules', 'suricata.rules') };
}

test('rules update --json: report shape, --conf-dir, default output under --data-dir', async () => {
  const f = fixture();
  const r = await run(['--source', f.src, '--conf-dir', f.conf, '--data-dir', f.data, '--json']);
  assert.equal(r.code, 0, r.err);
  const rep = JSON.parse(r.out);
  assert.deepEqual(Object.keys(rep), [
    'sources',
    'total',
    'enabled',
    'disabled',
    'enabled_by_conf',
    'disabled_by_conf',
    'dropped',
    'modified',
    'invalid',
    'loaded',
    'skipped',
    'skipped_by_reason',
    'output',
    'changes',
    'written',
    'dry_run',
    'errors',
  ]);
  assert.deepEqual(rep, {
    sources: [{ source: f.src, files: 1, rules: 5 }],
    total: 5,
    enabled: 4,
    disabled: 1,
    enabled_by_conf: 1,
    disabled_by_conf: 1,
    dropped: 5,
    modified: 1,
    invalid: 0,
    loaded: 3,
    skipped: 1,
    skipped_by_reason: { 'unsupported keyword: lua': 1 },
    output: f.out,
    changes: { added: 5, removed: 0, changed: 0 },
    written: true,
    dry_run: false,
    errors: [],
  });
  const lines = fs.readFileSync(f.out, 'utf8').split('\n');
  assert.equal(lines[2], '# ' + rule(1).replace('alert', 'drop'));
  assert.equal(lines[4], rule(3).replace('alert', 'drop'));
  assert.match(lines[5]!, /^drop .*content:"xx";/);
  assert.match(r.err, /^wrote 5 rules to .*\nhint: /, 'under --json the notes go to stderr');
});

test('rules update: text report, --dry-run diff, failures leave the output alone', async () => {
  const f = fixture();
  const first = await run(['--source', f.src, '--output', f.out]);
  assert.equal(first.code, 0, first.err);
  assert.match(
    first.out,
    /^source .*local\.rules: 1 file\(s\), 5 rules in the output\n5 rules: 4 enabled, 1 disabled\n/m,
  );
  assert.match(
    first.out,
    /test load: 3 loaded, 1 skipped \(75\.0 % loaded\)\ntop skip reasons:\n +1 {2}unsupported keyword: lua\n/,
  );
  assert.match(first.out, /wrote 5 rules to /);
  const before = fs.readFileSync(f.out);

  const dry = await run(['--source', f.src, '--conf-dir', f.conf, '--output', f.out, '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /changes against .*: 0 added, 0 removed, 5 changed\n/);
  assert.match(dry.out, /^ {2}~ 1:1 \(disabled\) r1$/m);
  assert.match(dry.out, /dry run: would write 5 rules to /);
  assert.deepEqual(fs.readFileSync(f.out), before);

  const broken = path.join(f.dir, 'broken.rules');
  fs.writeFileSync(broken, rule(9, 'lua:x; '));
  const bad = await run(['--source', broken, '--output', f.out, '--reload-command', 'echo never']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /no enabled rule loads: refusing to write; .* left unchanged/);
  assert.doesNotMatch(bad.out, /never/);
  assert.deepEqual(fs.readFileSync(f.out), before);

  const missing = run(['--source', path.join(f.dir, 'nope.rules'), '--output', f.out]);
  await assert.rejects(missing, (e: unknown) => e instanceof CliError && e.exitCode === 1 && /ENOENT/.test(e.message));
  fs.writeFileSync(path.join(f.dir, 'bad.conf'), 'what is this\n');
  const conf = run(['--source', f.src, '--disable-conf', path.join(f.dir, 'bad.conf'), '--output', f.out]);
  await assert.rejects(
    conf,
    (e: unknown) => e instanceof CliError && /bad\.conf:1: unrecognised matcher/.test(e.message),
  );
  assert.deepEqual(fs.readFileSync(f.out), before);
});

test('rules update: usage errors', async () => {
  const usage = (args: string[]) =>
    assert.rejects(run(args), (e: unknown) => e instanceof CliError && e.exitCode === 2);
  await usage([]);
  await usage(['--source', 'x', '--bogus']);
  await usage(['--source', 'x', '--timeout', '0']);
  await usage(['positional']);
  await assert.rejects(run(['--source', 'x', '--conf-dir', '/nonexistent/conf']), /no such directory/);
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /^usage: vigil rules update/);
});

test('rules update --reload-command: runs after a successful update, exit status reported', async () => {
  const f = fixture();
  const ok = await run(['--source', f.src, '--output', f.out, '--reload-command', 'echo reloading; exit 0']);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /reloading\nreload command: exit status 0\n$/);
  const fail = await run(['--source', f.src, '--output', f.out, '--reload-command', 'echo oops >&2; exit 4']);
  assert.equal(fail.code, 3);
  assert.match(fail.out, /reload command: exit status 4\n$/);
  assert.equal(fail.err, 'oops\n');
  const dry = await run(['--source', f.src, '--output', f.out, '--dry-run', '--reload-command', 'echo no']);
  assert.doesNotMatch(dry.out, /reload command/);
});

const ET = path.join(SHARED_DIR, 'data', 'rules', 'et-open');
const ET_FILES = ['emerging-dos.rules', 'emerging-ftp.rules', 'emerging-icmp.rules'];
const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js');

test(
  'vigil rules update end to end on ET Open files: disable by group, enable a commented-out rule by sid',
  { skip: !ET_FILES.every((f) => fs.existsSync(path.join(ET, f))) && 'ET Open snapshot not present' },
  async () => {
    const dir = tempDir('vigil-rupd-et-');
    const src = path.join(dir, 'et');
    fs.mkdirSync(src);
    for (const f of ET_FILES) fs.copyFileSync(path.join(ET, f), path.join(src, f));
    const text = (f: string): string => fs.readFileSync(path.join(src, f), 'utf8');
    const active = (f: string): number =>
      text(f)
        .split('\n')
        .filter((l) => /^(alert|drop|pass|reject)\s/.test(l)).length;
    const sidsOf = (f: string): Set<string> => new Set([...text(f).matchAll(/\bsid:\s*(\d+);/g)].map((m) => m[1]!));
    // A rule ET ships commented out.
    const icmp = /^#\s*alert .*\bsid:(\d+);/m.exec(text('emerging-icmp.rules'));
    assert.ok(icmp);
    const conf = path.join(dir, 'conf');
    fs.mkdirSync(conf);
    fs.writeFileSync(path.join(conf, 'disable.conf'), '# noisy\ngroup:emerging-ftp.rules\n');
    fs.writeFileSync(path.join(conf, 'enable.conf'), `${icmp[1]}\n`);
    const data = path.join(dir, 'data');
    const exec = promisify(execFile);
    const args = [MAIN, 'rules', 'update', '--source', src, '--conf-dir', conf, '-D', data, '--json'];
    const r = await exec(process.execPath, args, { encoding: 'utf8' });
    const rep = JSON.parse(r.stdout);
    const total = ET_FILES.reduce((n, f) => n + sidsOf(f).size, 0);
    assert.equal(rep.total, total);
    assert.equal(rep.disabled_by_conf, active('emerging-ftp.rules'));
    assert.equal(rep.enabled_by_conf, 1);
    assert.equal(rep.enabled, active('emerging-dos.rules') + active('emerging-icmp.rules') + 1);
    assert.equal(rep.loaded + rep.skipped, rep.enabled);
    assert.ok(rep.loaded > 0 && rep.written === true);
    const out = fs.readFileSync(path.join(data, 'rules', 'suricata.rules'), 'utf8').split('\n');
    const ftp = sidsOf('emerging-ftp.rules');
    for (const l of out) {
      const sid = /\bsid:(\d+);/.exec(l)?.[1];
      if (sid !== undefined && ftp.has(sid)) assert.ok(l.startsWith('# '), `ftp rule ${sid} is disabled`);
    }
    assert.equal(out.filter((l) => l.includes(`sid:${icmp[1]};`) && /^alert /.test(l)).length, 1);
    // The written file is what `vigil rules check` then reads.
    const check = await exec(process.execPath, [
      MAIN,
      'rules',
      'check',
      path.join(data, 'rules', 'suricata.rules'),
      '--json',
    ]);
    assert.ok(JSON.parse(check.stdout).loaded >= rep.loaded);
  },
);
