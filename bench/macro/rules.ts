/**
 * Signature-engine throughput (issue 4): `vigil analyze` on the benchmark capture without rules
 * and with the whole ET Open ruleset, in the same run, with peak RSS. The target is at least 50 %
 * of the rules-free packets/s.
 *
 *   npm run bench:rules                     # builds a 2,000,000-packet capture in $TMPDIR first
 *   BENCH_PCAP=/path/big.pcap BENCH_RUNS=3 npm run bench:rules
 *
 * Start-up (node, rule loading and compilation) is measured on a 10-packet capture with the same
 * options and subtracted, so the figures are steady-state packet rates; the load time is printed.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const SHARED = process.env['VIGIL_SHARED_DIR'] ?? path.resolve(ROOT, '..', 'shared');
const N = Number(process.env['BENCH_PACKETS'] ?? 2_000_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 2);
const WORKERS = process.env['BENCH_WORKERS'] ?? '1';

interface Run {
  seconds: number;
  rssMb: number;
  summary: { packets: number; alerts: number; rules: { loaded: number; skipped: number } };
}

function run(args: string[]): Run {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLI, 'analyze', ...args, '--json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`vigil analyze ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  return { seconds, rssMb: Number(lines[lines.length - 1]) / 1024, summary: JSON.parse(r.stdout) as Run['summary'] };
}

function best(args: string[]): Run {
  let b: Run | null = null;
  for (let i = 0; i < RUNS; i++) {
    const r = run(args);
    if (b === null || r.seconds < b.seconds) b = r;
  }
  return b!;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-rules-'));
let pcap = process.env['BENCH_PCAP'] ?? '';
if (!pcap) {
  pcap = path.join(work, `bench-${N}.pcap`);
  console.error(`building ${N}-packet capture with make-bench-pcap.sh ...`);
  const r = spawnSync('bash', [path.join(SHARED, 'scripts', 'make-bench-pcap.sh'), pcap, String(N)], {
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error('make-bench-pcap.sh failed');
}
const tiny = path.join(work, 'tiny.pcap');
spawnSync('editcap', ['-r', pcap, tiny, '1-10']);
const etDir = path.join(SHARED, 'data', 'rules', 'et-open');
const ruleArgs = fs
  .readdirSync(etDir)
  .filter((f) => f.endsWith('.rules'))
  .sort()
  .flatMap((f) => ['--rules', path.join(etDir, f)]);
const base = ['--workers', WORKERS, '--no-builtin-rules'];

const rows: { name: string; run: Run; startup: number }[] = [];
for (const [name, extra] of [
  ['no rules', [] as string[]],
  ['ET Open', ruleArgs],
] as const) {
  const startup = best([tiny, ...base, ...extra]).seconds;
  rows.push({ name, run: best([pcap, ...base, ...extra]), startup });
}
const packets = rows[0]!.run.summary.packets;
console.log(`capture: ${pcap} (${packets} packets), workers ${WORKERS}, best of ${RUNS}`);
console.log('| run | rules loaded | alerts | start-up s | s (start-up subtracted) | packets/s | peak RSS MB |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
const rate = (r: { run: Run; startup: number }): number => packets / Math.max(1e-6, r.run.seconds - r.startup);
for (const r of rows)
  console.log(
    `| ${r.name} | ${r.run.summary.rules.loaded} | ${r.run.summary.alerts} | ${r.startup.toFixed(3)} | ${(r.run.seconds - r.startup).toFixed(3)} | ${Math.round(rate(r))} | ${Math.round(r.run.rssMb)} |`,
  );
console.log(`ratio with rules / without: ${(rate(rows[1]!) / rate(rows[0]!)).toFixed(2)} (target >= 0.50)`);
fs.rmSync(work, { recursive: true, force: true });
