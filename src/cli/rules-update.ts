/**
 * `vigil rules update`: merge rule sources, apply enable/disable/drop/modify.conf, test-load, and
 * write one rules file atomically (suricata-update's workflow; see docs/rules-update.md).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RulesUpdateError, runUpdate } from '../detect/signatures/update.js';
import type { UpdateResult } from '../detect/signatures/update.js';
import { CliError, usageError } from './errors.js';
import { engineConfigFrom } from './options.js';

const USAGE = `usage: vigil rules update --source PATH_OR_URL... [options]

Merges rule sources, applies enable/disable/drop/modify filters (suricata-update's formats),
test-loads the result and writes one rules file atomically.

sources (later ones override earlier ones for the same gid:sid):
  --source PATH_OR_URL    a .rules file, a directory of *.rules, a .tar.gz/.tgz/.tar archive,
                          or an http(s) URL to one of these (repeatable)
filters (suricata-update formats; applied disable, enable, drop, modify):
  --conf-dir DIR          read enable.conf, disable.conf, drop.conf, modify.conf found in DIR
  --enable-conf F  --disable-conf F  --drop-conf F  --modify-conf F
output:
  -D, --data-dir DIR      default ./vigil-data; output goes to DIR/rules/suricata.rules
  --output FILE           write here instead
  --no-test               parse only, do not compile rules for the test load
  --dry-run               report what would change, write nothing
  --reload-command CMD    run CMD (via /bin/sh) after a successful update
  --timeout SECONDS       per-URL download limit (default 60)
  --json                  print the report as JSON
  -v, --verbose           list skipped rules and every change
  --set vars.address-groups.NAME=VALUE, -c suricata.yaml   rule variables for the test load

exit status: 0 updated (or dry run ok), 1 not updated (unreadable source, bad filter file, no rule
loads, write failure), 2 usage error, 3 updated but the reload command failed.
`;

/** Where the command writes (tests pass their own). */
export interface CommandIo {
  out(s: string): void;
  err(s: string): void;
}

const processIo: CommandIo = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
};

/** How many warnings and diff lines are printed before "... N more" (unless --verbose). */
const PRINT_LIMIT = 20;

function printList(io: (s: string) => void, items: string[], all: boolean): void {
  const n = all ? items.length : Math.min(items.length, PRINT_LIMIT);
  for (let i = 0; i < n; i++) io(items[i]! + '\n');
  if (n < items.length) io(`  ... ${items.length - n} more (--verbose lists all)\n`);
}

function textReport(r: UpdateResult, verbose: boolean, tested: boolean): string {
  const p = r.report;
  let t = '';
  for (const s of p.sources) t += `source ${s.source}: ${s.files} file(s), ${s.rules} rules in the output\n`;
  t += `${p.total} rules: ${p.enabled} enabled, ${p.disabled} disabled`;
  t += p.invalid > 0 ? `, ${p.invalid} invalid lines left out\n` : '\n';
  t += `filters: ${p.enabled_by_conf} enabled, ${p.disabled_by_conf} disabled, ${p.dropped} dropped, ${p.modified} modified\n`;
  const pct = p.enabled === 0 ? 100 : (100 * p.loaded) / p.enabled;
  t += `test load${tested ? '' : ' (parse only, --no-test)'}: ${p.loaded} loaded, ${p.skipped} skipped (${pct.toFixed(1)} % loaded)\n`;
  const reasons = Object.entries(p.skipped_by_reason);
  if (reasons.length > 0) {
    t += 'top skip reasons:\n';
    for (const [why, n] of reasons.slice(0, 15)) t += `  ${String(n).padStart(6)}  ${why}\n`;
    if (reasons.length > 15) t += `  ... ${reasons.length - 15} more reasons (--json lists all)\n`;
  }
  if (verbose) for (const s of r.skipped) t += `${s.rule.path}:${s.rule.line}: ${s.reason}\n`;
  const c = p.changes;
  t += `changes against ${p.output}: ${c.added} added, ${c.removed} removed, ${c.changed} changed\n`;
  return t;
}

function diffLines(r: UpdateResult): string[] {
  const byKey = new Map(r.rules.map((x) => [`${x.gid}:${x.sid}`, x]));
  const show = (mark: string, k: string): string => {
    const x = byKey.get(k);
    return x === undefined ? `  ${mark} ${k}` : `  ${mark} ${k} ${x.enabled ? '' : '(disabled) '}${x.msg}`;
  };
  return [
    ...r.diff.added.map((k) => show('+', k)),
    ...r.diff.removed.map((k) => show('-', k)),
    ...r.diff.changed.map((k) => show('~', k)),
  ];
}

/** Run the reload command through the shell; its output goes to `io` (stderr under --json). */
export function runReloadCommand(cmd: string, out: (s: string) => void, err: (s: string) => void): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(cmd, { shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => out(b.toString()));
    child.stderr.on('data', (b: Buffer) => err(b.toString()));
    child.on('error', (e) => resolve(`could not start: ${e.message}`));
    child.on('close', (code, signal) => resolve(signal !== null ? `killed by ${signal}` : `exit status ${code}`));
  });
}

/** Returns the exit status; throws CliError for usage errors and unusable inputs. */
export async function rulesUpdateCommand(argv: string[], io: CommandIo = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        source: { type: 'string', multiple: true },
        'data-dir': { type: 'string', short: 'D' },
        output: { type: 'string' },
        'conf-dir': { type: 'string' },
        'enable-conf': { type: 'string' },
        'disable-conf': { type: 'string' },
        'drop-conf': { type: 'string' },
        'modify-conf': { type: 'string' },
        'no-test': { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        'reload-command': { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        set: { type: 'string', multiple: true },
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw usageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help === true) {
    io.out(USAGE);
    return 0;
  }
  const sources = v.source ?? [];
  if (sources.length === 0) throw usageError('rules update needs at least one --source (vigil rules update --help)');
  let timeoutMs: number | undefined;
  if (v.timeout !== undefined) {
    const s = Number(v.timeout);
    if (!(s > 0)) throw usageError(`--timeout: expected a positive number of seconds, got "${v.timeout}"`);
    timeoutMs = s * 1000;
  }
  const confOf = (explicit: string | undefined, name: string): string | null => {
    if (explicit !== undefined) return explicit;
    if (v['conf-dir'] === undefined) return null;
    const p = path.join(v['conf-dir'], name);
    return fs.existsSync(p) ? p : null;
  };
  if (v['conf-dir'] !== undefined && !fs.existsSync(v['conf-dir']))
    throw new CliError('VIGIL_CLI_INPUT', `--conf-dir ${v['conf-dir']}: no such directory`, 1);
  const output = v.output ?? path.join(v['data-dir'] ?? 'vigil-data', 'rules', 'suricata.rules');
  const json = v.json === true;
  const verbose = v.verbose === true;
  const cfg = engineConfigFrom(v, (m) => io.err(`vigil: warning: ${m}\n`));
  let r: UpdateResult;
  try {
    r = await runUpdate({
      sources,
      enableConf: confOf(v['enable-conf'], 'enable.conf'),
      disableConf: confOf(v['disable-conf'], 'disable.conf'),
      dropConf: confOf(v['drop-conf'], 'drop.conf'),
      modifyConf: confOf(v['modify-conf'], 'modify.conf'),
      output,
      test: v['no-test'] !== true,
      dryRun: v['dry-run'] === true,
      vars: cfg.vars,
      limits: timeoutMs === undefined ? {} : { timeoutMs },
    });
  } catch (e) {
    if (e instanceof RulesUpdateError) throw new CliError('VIGIL_CLI_INPUT', e.message, 1);
    throw e;
  }
  printList(
    io.err,
    r.warnings.map((w) => `vigil: warning: ${w}`),
    verbose,
  );
  const p = r.report;
  if (json) io.out(JSON.stringify(p) + '\n');
  else {
    io.out(textReport(r, verbose, v['no-test'] !== true));
    if (p.dry_run) printList(io.out, diffLines(r), verbose);
  }
  if (p.errors.length > 0) {
    for (const e of p.errors) io.err(`vigil: ${e}; ${output} left unchanged\n`);
    return 1;
  }
  const say = json ? io.err : io.out;
  if (p.dry_run) {
    say(`dry run: would write ${p.total} rules to ${p.output}\n`);
    return 0;
  }
  say(`wrote ${p.total} rules to ${p.output}\n`);
  const cmd = v['reload-command'];
  if (cmd === undefined) {
    say(
      `hint: load it with "vigil analyze --rules ${p.output}"; ` +
        `--reload-command CMD runs CMD after each successful update\n`,
    );
    return 0;
  }
  const status = await runReloadCommand(cmd, say, io.err);
  say(`reload command: ${status}\n`);
  return status === 'exit status 0' ? 0 : 3;
}
