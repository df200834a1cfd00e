/** `vigil verify DIR...`: run suricata-verify style regression cases through `vigil analyze`. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { discoverCases } from '../verify/case.js';
import { compactJson, describeFailure, parseVersion } from '../verify/checks.js';
import type { CheckResult } from '../verify/checks.js';
import { VerifyError } from '../verify/errors.js';
import { runCases } from '../verify/run.js';
import type { CaseResult } from '../verify/run.js';
import { CliError, usageError } from './errors.js';

const DEFAULT_TIMEOUT_S = 120;
/** suricata-verify's main branch, which the shared snapshot comes from, targets Suricata 9.0.0-dev. */
const DEFAULT_SURICATA_VERSION = '9.0.0';

export const VERIFY_USAGE = `usage: vigil verify DIR... [options]

Run suricata-verify cases (directories holding test.yaml, a capture, test.rules): each through
"vigil analyze --rules test.rules --eve ...", then the test.yaml checks against the EVE records.
A DIR is a case or a directory containing cases. A case passes when its alert checks hold.

  --filter SUBSTR        only cases whose name contains SUBSTR (repeatable)
  --all-checks           non-alert filter checks (http, flow, stats records, ...) count too
  --json                 print one JSON object instead of the text report
  -v, --verbose          print each case's requirements, analyze command and every check
  -j, --jobs N           cases run at once (default: number of cores)
  --timeout S            per-case time limit in seconds (default ${DEFAULT_TIMEOUT_S})
  --keep                 keep the output directories (EVE files, stderr) and print where they are
  --min-pass-rate P      exit 0 when at least P % of the cases pass (default: all must pass)
  --suricata-version V   version whose behaviour is expected, for per-check min-version/lt-version
                         (default ${DEFAULT_SURICATA_VERSION})
`;

function num(name: string, v: string | undefined, dflt: number, min: number, max = Infinity, int = true): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n))) {
    const range = max === Infinity ? `>= ${min}` : `from ${min} to ${max}`;
    throw usageError(`${name} expects ${int ? 'an integer' : 'a number'} ${range}, got "${v}"`);
  }
  return n;
}

function checkLine(r: CheckResult): string {
  const head = `    #${r.index} [${r.ok === null ? (r.note ?? 'not evaluated') : r.ok ? 'ok' : 'FAIL'}] ${r.kind}`;
  if (r.filter === null) return `${head} check\n`;
  if (r.ok === null) return `${head} filter ${compactJson(r.filter)}\n`;
  return `${head} ${describeFailure(r)}${r.counted ? '' : ' (not counted)'}\n`;
}

function caseText(r: CaseResult, verbose: boolean, cli: string): string {
  let s =
    r.status === 'pass' ? `PASS ${r.name}\n` : `${r.status === 'fail' ? 'FAIL' : 'ERROR'} ${r.name}: ${r.reason}\n`;
  if (!verbose) return s;
  if (Object.keys(r.requires).length > 0) s += `    requires: ${JSON.stringify(r.requires)}\n`;
  if (r.command !== null) s += `    command: ${[process.execPath, cli, ...r.command].join(' ')}\n`;
  for (const c of r.checks) s += checkLine(c);
  if (r.status === 'error' && r.stderr.trim() !== '') {
    s += r.stderr
      .trimEnd()
      .split('\n')
      .slice(-20)
      .map((l) => `    | ${l}\n`)
      .join('');
  }
  return s;
}

const pct = (n: number, d: number): number => (d === 0 ? 0 : Math.round((1000 * n) / d) / 10);

export async function verifyCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        filter: { type: 'string', multiple: true },
        'all-checks': { type: 'boolean' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        jobs: { type: 'string', short: 'j' },
        timeout: { type: 'string' },
        keep: { type: 'boolean' },
        'min-pass-rate': { type: 'string' },
        'suricata-version': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw usageError(`${(e as Error).message}\n${VERIFY_USAGE}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(VERIFY_USAGE);
    return 0;
  }
  if (parsed.positionals.length === 0) throw usageError(`expected at least one case directory\n${VERIFY_USAGE}`);
  const jobs = num('--jobs', v.jobs, Math.max(1, os.availableParallelism()), 1);
  const timeoutS = num('--timeout', v.timeout, DEFAULT_TIMEOUT_S, 0.001, Infinity, false);
  const minPassRate =
    v['min-pass-rate'] === undefined ? null : num('--min-pass-rate', v['min-pass-rate'], 100, 0, 100, false);
  const versionText = v['suricata-version'] ?? DEFAULT_SURICATA_VERSION;
  const version = parseVersion(versionText);
  if (version === null) throw usageError(`--suricata-version expects a version such as 8.0.1, got "${versionText}"`);

  let refs;
  try {
    refs = discoverCases(parsed.positionals);
  } catch (e) {
    if (e instanceof VerifyError) throw new CliError('VIGIL_CLI_INPUT', e.message, 1);
    throw e;
  }
  const filters = v.filter ?? [];
  if (filters.length > 0) refs = refs.filter((r) => filters.some((f) => r.name.includes(f)));
  if (refs.length === 0) throw new CliError('VIGIL_CLI_INPUT', `no case name contains ${filters.join(' or ')}`, 1);

  // The analyze child runs the same build as this command.
  const cli = fileURLToPath(new URL('./main.js', import.meta.url));
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-verify-'));
  const verbose = v.verbose === true;
  const json = v.json === true;
  let results: CaseResult[];
  try {
    results = await runCases(
      refs,
      {
        cli,
        timeoutMs: timeoutS * 1000,
        jobs,
        workDir,
        evaluate: { version, allChecks: v['all-checks'] === true },
      },
      json ? undefined : (r) => void process.stdout.write(caseText(r, verbose, cli)),
    );
  } finally {
    if (v.keep) process.stderr.write(`vigil: case outputs kept in ${workDir}\n`);
    else fs.rmSync(workDir, { recursive: true, force: true });
  }

  const total = results.length;
  const passed = results.filter((r) => r.status === 'pass').length;
  const failed = results.filter((r) => r.status === 'fail').length;
  const errors = total - passed - failed;
  const rate = pct(passed, total);
  if (json) {
    const cases = results.map((r) => ({
      name: r.name,
      status: r.status,
      ...(r.reason !== null ? { reason: r.reason } : {}),
      checks: r.checks,
      requires: r.requires,
      duration_s: r.duration_s,
      ...(v.keep ? { out_dir: r.out_dir } : {}),
    }));
    process.stdout.write(JSON.stringify({ cases, passed, failed, errors, total, pass_rate: rate }) + '\n');
  } else {
    let s = `passed ${passed}/${total} (${rate}%)`;
    if (failed + errors > 0) s += `, failed ${failed}, errors ${errors}`;
    const other = results.flatMap((r) => r.checks).filter((c) => c.kind !== 'alert' && c.ok !== null && !c.counted);
    if (other.length > 0) {
      const held = other.filter((c) => c.ok === true).length;
      s += `; non-alert checks (not counted, see --all-checks): ${held}/${other.length} hold`;
    }
    process.stdout.write(`${s}\n`);
  }
  if (passed === total) return 0;
  return minPassRate !== null && (100 * passed) / total >= minPassRate ? 0 : 1;
}
