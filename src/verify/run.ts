/**
 * Running cases: each case is one `vigil analyze` child process (a crash or hang stays in its
 * case), several at a time, then its checks are evaluated against the EVE file it wrote.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { analyzeArgv, loadCase } from './case.js';
import type { CaseRef, VerifyCase } from './case.js';
import { describeFailure, evaluateChecks } from './checks.js';
import type { CheckResult, EvaluateOptions } from './checks.js';
import { VerifyError } from './errors.js';

export type CaseStatus = 'pass' | 'fail' | 'error';

export interface CaseResult {
  name: string;
  dir: string;
  status: CaseStatus;
  /** For `fail`: the first failing counted check; for `error`: what went wrong. */
  reason: string | null;
  checks: CheckResult[];
  /** The case's `requires` map (not enforced). */
  requires: Record<string, unknown>;
  /** The analyze arguments after the CLI path; null when the case could not be loaded. */
  command: string[] | null;
  /** The end of analyze's stderr (warnings, errors). */
  stderr: string;
  duration_s: number;
  /** Where the case's EVE file and logs went. */
  out_dir: string;
}

export interface RunOptions {
  /** The `vigil` CLI entry (dist/src/cli/main.js) to run `analyze` with. */
  cli: string;
  /** Per-case limit; the child is killed when it is reached. */
  timeoutMs: number;
  /** Cases run at once. */
  jobs: number;
  /** Each case writes below this directory. */
  workDir: string;
  evaluate: EvaluateOptions;
}

/** Stderr kept per case: enough for the error and the warnings before it. */
const STDERR_KEEP = 64 * 1024;

interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  spawnError: string | null;
  stderr: string;
}

function runChild(cli: string, argv: string[], cwd: string, timeoutMs: number): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    let stderr = '';
    let timedOut = false;
    let spawnError: string | null = null;
    // Upstream runs Suricata from the case directory with TZ=UTC.
    const child = spawn(process.execPath, [cli, ...argv], {
      cwd,
      env: { ...process.env, TZ: 'UTC' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (stderr.length > 2 * STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
    });
    child.on('error', (e) => {
      spawnError = e.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, spawnError, stderr: stderr.slice(-STDERR_KEEP) });
    });
  });
}

/** The line of analyze's stderr that says why it failed: its `vigil:` error or a thrown error. */
export function failureLine(stderr: string): string | null {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const vigil = lines.find((l) => l.startsWith('vigil: ') && !l.startsWith('vigil: warning:'));
  if (vigil !== undefined) return vigil.slice('vigil: '.length);
  return lines.find((l) => /^[\w.]*(Error|Exception)\b/.test(l)) ?? lines[0] ?? null;
}

function describeChildFailure(o: ChildOutcome, timeoutMs: number): string {
  if (o.spawnError !== null) return `cannot run analyze: ${o.spawnError}`;
  if (o.timedOut) return `analyze timed out after ${timeoutMs / 1000} s`;
  const how = o.signal !== null ? `was killed by ${o.signal}` : `exited with code ${o.code}`;
  const line = failureLine(o.stderr);
  const text = line === null ? '' : `: ${line.length > 400 ? `${line.slice(0, 400)}...` : line}`;
  return `analyze ${how}${text}`;
}

/** The records of an EVE file; throws when the file is missing or a line is not JSON. */
function readEve(file: string): unknown[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new VerifyError('VIGIL_VERIFY_BAD_CASE', 'analyze wrote no EVE file');
  }
  const events: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line));
    } catch {
      throw new VerifyError('VIGIL_VERIFY_BAD_CASE', `eve.json line ${i + 1} is not JSON`);
    }
  }
  return events;
}

/** Run one case with its output in `outDir` (created). Never throws: problems become an `error` result. */
export async function runCase(ref: CaseRef, outDir: string, opts: RunOptions): Promise<CaseResult> {
  const t0 = performance.now();
  const result: CaseResult = {
    name: ref.name,
    dir: ref.dir,
    status: 'error',
    reason: null,
    checks: [],
    requires: {},
    command: null,
    stderr: '',
    duration_s: 0,
    out_dir: outDir,
  };
  try {
    const c: VerifyCase = loadCase(ref);
    result.requires = c.requires;
    fs.mkdirSync(outDir, { recursive: true });
    const argv = analyzeArgv(c, outDir);
    result.command = argv;
    const o = await runChild(opts.cli, argv, c.dir, opts.timeoutMs);
    result.stderr = o.stderr;
    if (o.stderr !== '') fs.writeFileSync(path.join(outDir, 'stderr'), o.stderr);
    if (o.code !== 0 || o.timedOut || o.spawnError !== null) {
      result.reason = describeChildFailure(o, opts.timeoutMs);
    } else {
      result.checks = evaluateChecks(c.checks, readEve(path.join(outDir, 'eve.json')), opts.evaluate);
      const failed = result.checks.filter((r) => r.counted && r.ok === false);
      result.status = failed.length === 0 ? 'pass' : 'fail';
      if (failed.length > 0) {
        const more = failed.length > 1 ? ` (+${failed.length - 1} more failing)` : '';
        result.reason = `${describeFailure(failed[0]!)}${more}`;
      }
    }
  } catch (e) {
    // A bad case (VerifyError) or a runner bug: either way the case errs and the run goes on.
    result.reason = e instanceof VerifyError ? e.message : `internal error: ${(e as Error).message}`;
  }
  result.duration_s = Math.round(performance.now() - t0) / 1000;
  return result;
}

/** A directory name for a case's output, unique within the run. */
function outDirNames(refs: readonly CaseRef[]): string[] {
  const used = new Set<string>();
  return refs.map((r) => {
    const base = r.name.replace(/[\\/]/g, '__').replace(/[^\w.-]/g, '_') || 'case';
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}-${n}`;
    used.add(name);
    return name;
  });
}

/**
 * Run cases `opts.jobs` at a time. `onResult` sees the results in the order of `refs` as soon
 * as each one and all before it are done, so output is stable whatever the scheduling.
 */
export async function runCases(
  refs: readonly CaseRef[],
  opts: RunOptions,
  onResult?: (r: CaseResult) => void,
): Promise<CaseResult[]> {
  const dirs = outDirNames(refs);
  const results: (CaseResult | undefined)[] = new Array<CaseResult | undefined>(refs.length);
  let next = 0;
  let emitted = 0;
  const lane = async (): Promise<void> => {
    while (next < refs.length) {
      const i = next++;
      results[i] = await runCase(refs[i]!, path.join(opts.workDir, dirs[i]!), opts);
      for (; emitted < refs.length && results[emitted] !== undefined; emitted++) onResult?.(results[emitted]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, refs.length)) }, lane));
  return results as CaseResult[];
}
