/**
 * `vigil eval DIR`: run `vigil analyze` in its default configuration on every labeled capture of
 * a corpus and score the EVE alerts against the truth files (src/eval/score.ts, docs/eval.md).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EvalError } from '../eval/errors.js';
import {
  combineScores,
  labelType,
  parseEveAlertLine,
  parseTruth,
  scoreCapture,
  WINDOW_AFTER_S,
  WINDOW_BEFORE_S,
} from '../eval/score.js';
import type { CaptureScore, EveAlert, TruthEvent } from '../eval/score.js';
import type { AnalyzeSummary } from './analyze.js';
import { CliError, usageError } from './errors.js';

export const EVAL_USAGE = `usage: vigil eval DIR [options] [-- ANALYZE-ARGS...]

Run "vigil analyze FILE --eve ... --json" (the default configuration: what a user gets) on every
*.pcap / *.pcapng in DIR that has a NAME.truth.json beside it, one capture at a time, and score the
alerts against the truth (docs/eval.md). Prints a table per capture and per label and the overall
typed recall. Exit code 0 whatever the figures; 1 when DIR or a truth file cannot be read or
analyze fails on a capture.

  --json                 print the whole result as one JSON object
  --workers N            pipeline worker threads for analyze (default: analyze's, the number of cores)
  --filter SUBSTR        only captures whose file name contains SUBSTR (repeatable)
  -v, --verbose          list each attack event not detected with its type
  -- ANALYZE-ARGS        passed to every analyze run (e.g. -- --no-ml); the default is none
`;

/** Truth file of a capture: `NAME.pcap` -> `NAME.truth.json`. */
const truthPath = (capture: string): string => capture.replace(/\.pcap(ng)?$/i, '.truth.json');

interface CaptureRun {
  name: string;
  score: CaptureScore;
  packets: number;
  packetsPerS: number;
  durationS: number;
  malformedEveLines: number;
  error: string | null;
}

interface ChildResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  spawnError: string | null;
}

/** Bytes of a child's stderr kept (the reason for a failure is near the end). */
const STDERR_KEEP = 64 * 1024;

function runAnalyze(cli: string, argv: string[]): Promise<ChildResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let spawnError: string | null = null;
    const child = spawn(process.execPath, [cli, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (stderr.length > 2 * STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
    });
    child.on('error', (e) => {
      spawnError = e.message;
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, spawnError }));
  });
}

/** Why analyze failed, in one line: its `vigil:` error line when it printed one. */
function failureReason(r: ChildResult): string {
  if (r.spawnError !== null) return `cannot run analyze: ${r.spawnError}`;
  const how = r.signal !== null ? `analyze was killed by ${r.signal}` : `analyze exited with code ${r.code}`;
  const lines = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const line = lines.find((l) => l.startsWith('vigil: ') && !l.startsWith('vigil: warning:')) ?? lines.at(-1);
  return line === undefined ? how : `${how}: ${line.startsWith('vigil: ') ? line.slice(7) : line}`;
}

async function readAlerts(eveFile: string): Promise<{ alerts: EveAlert[]; malformed: number }> {
  const alerts: EveAlert[] = [];
  let malformed = 0;
  const rl = readline.createInterface({ input: fs.createReadStream(eveFile), crlfDelay: Infinity });
  for await (const line of rl) {
    const r = parseEveAlertLine(line);
    if (r === 'malformed') malformed++;
    else if (r !== 'skip') alerts.push(r);
  }
  return { alerts, malformed };
}

const pct = (n: number, d: number): string => (d === 0 ? '-' : `${((100 * n) / d).toFixed(1)} %`);
const ratio = (n: number, d: number): number | null => (d === 0 ? null : Math.round((1e4 * n) / d) / 1e4);
const isoS = (s: number): string => new Date(s * 1000).toISOString().replace('T', ' ').slice(0, 23);

/** One table line: the first `left` cells left-aligned (names), the rest right-aligned (numbers). */
function row(cells: (string | number)[], widths: number[], left = 1): string {
  return (
    cells
      .map((c, i) => (i < left ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!)))
      .join('  ')
      .trimEnd() + '\n'
  );
}

const CAPTURE_HEAD = ['capture', 'events', 'typed', 'at-all', 'FP alerts', 'alerts', 'packets', 'packets/s'];

function captureRow(r: CaptureRun, widths: number[]): string {
  const s = r.score;
  let out = row([r.name, s.events, s.typed, s.atAll, s.fpAlerts, s.alerts, r.packets, r.packetsPerS], widths);
  if (r.error !== null) out += `    error: ${r.error}\n`;
  if (r.malformedEveLines > 0) out += `    warning: ${r.malformedEveLines} malformed EVE lines ignored\n`;
  return out;
}

function missedText(r: CaptureRun): string {
  let out = '';
  for (const o of r.score.outcomes) {
    if (o.typed) continue;
    const seen =
      o.typesInWindow.length === 0 ? 'no alert on the pair' : `alerts on the pair: ${o.typesInWindow.join(', ')}`;
    out += `    missed #${o.index} ${o.label} ${o.src} -> ${o.dst} ${isoS(o.start)}..${isoS(o.end)} (${seen})\n`;
  }
  return out;
}

export async function evalCommand(argv: string[]): Promise<number> {
  // Everything after the first "--" goes to analyze untouched.
  const dd = argv.indexOf('--');
  const own = dd === -1 ? argv : argv.slice(0, dd);
  const extra = dd === -1 ? [] : argv.slice(dd + 1);
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        workers: { type: 'string' },
        filter: { type: 'string', multiple: true },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw usageError(`${(e as Error).message}\n${EVAL_USAGE}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(EVAL_USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) throw usageError(`expected exactly one corpus directory\n${EVAL_USAGE}`);
  if (v.workers !== undefined && !/^[1-9]\d*$/.test(v.workers)) {
    throw usageError(`--workers expects an integer >= 1, got "${v.workers}"`);
  }
  const dir = parsed.positionals[0]!;
  let names: string[];
  try {
    if (!fs.statSync(dir).isDirectory()) throw new Error('not a directory');
    names = fs.readdirSync(dir);
  } catch (e) {
    throw new CliError('VIGIL_CLI_INPUT', `cannot read corpus directory ${dir}: ${(e as Error).message}`, 1);
  }
  const filters = v.filter ?? [];
  const captures = names
    .filter((n) => /\.pcap(ng)?$/i.test(n) && fs.existsSync(path.join(dir, truthPath(n))))
    .filter((n) => filters.length === 0 || filters.some((f) => n.includes(f)))
    .sort();
  if (captures.length === 0) {
    throw new CliError('VIGIL_CLI_INPUT', `no *.pcap/*.pcapng with a .truth.json beside it in ${dir}`, 1);
  }

  // Every truth file is read before the first (possibly long) analyze run, so a bad one fails fast.
  const truths = new Map<string, TruthEvent[]>();
  for (const n of captures) {
    const tp = path.join(dir, truthPath(n));
    try {
      truths.set(n, parseTruth(JSON.parse(fs.readFileSync(tp, 'utf8')) as unknown, tp));
    } catch (e) {
      if (e instanceof EvalError) throw new CliError('VIGIL_CLI_INPUT', e.message, 1);
      throw new CliError('VIGIL_CLI_INPUT', `cannot read truth file ${tp}: ${(e as Error).message}`, 1);
    }
  }

  const json = v.json === true;
  const verbose = v.verbose === true;
  const widths = [Math.max(7, ...captures.map((n) => n.length)), 6, 5, 6, 9, 7, 8, 9];
  if (!json) process.stdout.write(row(CAPTURE_HEAD, widths));

  // The analyze child runs the same build as this command. Captures run one at a time so that
  // each one's packets/s is analyze's own, not shared with a sibling run.
  const cli = fileURLToPath(new URL('./main.js', import.meta.url));
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-eval-'));
  const warned = new Set<string>();
  const runs: CaptureRun[] = [];
  try {
    for (let i = 0; i < captures.length; i++) {
      const name = captures[i]!;
      const events = truths.get(name)!;
      const eve = path.join(workDir, `${i}.eve.json`);
      const args = ['analyze', path.join(dir, name), ...extra, '--json', '--eve', eve];
      if (v.workers !== undefined) args.push('--workers', v.workers);
      const r = await runAnalyze(cli, args);
      // Analyze's warnings (skipped rules, config) are the same for every capture: show each once.
      for (const l of r.stderr.split('\n')) {
        if (l.startsWith('vigil: warning:') && !warned.has(l)) {
          warned.add(l);
          process.stderr.write(`${l}\n`);
        }
      }
      let run: CaptureRun;
      let summary: AnalyzeSummary | null = null;
      if (r.code === 0) {
        try {
          summary = JSON.parse(r.stdout) as AnalyzeSummary;
        } catch {
          summary = null;
        }
      }
      if (summary === null) {
        // Its events count as missed, so totals stay honest; the exit code reports the failure.
        const why = r.code === 0 ? 'analyze printed no JSON summary' : failureReason(r);
        run = {
          name,
          score: scoreCapture(events, []),
          packets: 0,
          packetsPerS: 0,
          durationS: 0,
          malformedEveLines: 0,
          error: why,
        };
      } else {
        const { alerts, malformed } = await readAlerts(eve);
        run = {
          name,
          score: scoreCapture(events, alerts),
          packets: summary.packets,
          packetsPerS: summary.packets_per_s,
          durationS: summary.duration_s,
          malformedEveLines: malformed,
          error: null,
        };
      }
      fs.rmSync(eve, { force: true });
      runs.push(run);
      if (!json) process.stdout.write(captureRow(run, widths) + (verbose ? missedText(run) : ''));
    }
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }

  const total = combineScores(runs.map((r) => r.score));
  const packets = runs.reduce((n, r) => n + r.packets, 0);
  const errors = runs.filter((r) => r.error !== null).map((r) => ({ capture: r.name, reason: r.error! }));
  if (json) {
    const labels: Record<string, object> = {};
    for (const [k, l] of Object.entries(total.labels)) {
      labels[k] = {
        type: labelType(k),
        events: l.events,
        typed: l.typed,
        at_all: l.atAll,
        typed_recall: ratio(l.typed, l.events),
      };
    }
    const out = {
      dir,
      window: { before_s: WINDOW_BEFORE_S, after_s: WINDOW_AFTER_S },
      analyze_args: extra,
      captures: runs.map((r) => ({
        name: r.name,
        events: r.score.events,
        typed: r.score.typed,
        at_all: r.score.atAll,
        benign_events: r.score.benignEvents,
        fp_alerts: r.score.fpAlerts,
        alerts: r.score.alerts,
        packets: r.packets,
        packets_per_s: r.packetsPerS,
        duration_s: r.durationS,
        labels: Object.fromEntries(
          Object.entries(r.score.labels).map(([k, l]) => [k, { events: l.events, typed: l.typed, at_all: l.atAll }]),
        ),
        alerts_by_type: r.score.alertsByType,
        fp_by_type: r.score.fpByType,
        event_outcomes: r.score.outcomes.map((o) => ({
          index: o.index,
          label: o.label,
          type: o.type,
          src: o.src,
          dst: o.dst,
          start: o.start,
          end: o.end,
          typed: o.typed,
          at_all: o.atAll,
          types_in_window: o.typesInWindow,
        })),
        malformed_eve_lines: r.malformedEveLines,
        error: r.error,
      })),
      labels,
      totals: {
        captures: runs.length,
        events: total.events,
        typed: total.typed,
        at_all: total.atAll,
        fp_alerts: total.fpAlerts,
        alerts: total.alerts,
        packets,
      },
      fp_by_type: total.fpByType,
      typed_recall: ratio(total.typed, total.events),
      at_all_recall: ratio(total.atAll, total.events),
      errors,
    };
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    const seconds = runs.reduce((n, r) => n + r.durationS, 0);
    const rate = seconds > 0 ? Math.round(packets / seconds) : 0;
    let s = row(['total', total.events, total.typed, total.atAll, total.fpAlerts, total.alerts, packets, rate], widths);
    const keys = Object.keys(total.labels);
    const lw = [
      Math.max(5, ...keys.map((k) => k.length)),
      Math.max(4, ...keys.map((k) => labelType(k).length)),
      6,
      5,
      6,
      12,
    ];
    s += '\n' + row(['label', 'type', 'events', 'typed', 'at-all', 'typed recall'], lw, 2);
    for (const [k, l] of Object.entries(total.labels)) {
      s += row([k, labelType(k), l.events, l.typed, l.atAll, pct(l.typed, l.events)], lw, 2);
    }
    s += row(['total', '', total.events, total.typed, total.atAll, pct(total.typed, total.events)], lw, 2);
    const fp = Object.entries(total.fpByType).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    s += `\nfalse-positive alerts by type: ${fp.length === 0 ? 'none' : fp.map(([k, n]) => `${k} ${n}`).join(', ')}\n`;
    s += `typed recall: ${total.typed}/${total.events} = ${pct(total.typed, total.events)}`;
    s += ` (detected at all: ${pct(total.atAll, total.events)})\n`;
    for (const e of errors) s += `error: ${e.capture}: ${e.reason}\n`;
    process.stdout.write(s);
  }
  return errors.length === 0 ? 0 : 1;
}
