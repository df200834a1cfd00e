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
 * Rates are given per wall second and per CPU second (user + system of the analyze process): on a
 * shared, busy machine wall time stretches with the other jobs, CPU time far less, so compare the
 * CPU ratio there (with one worker the two agree on a quiet machine, up to GC helper threads).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The CLI of the same build as this script (dist/ or any --outDir), so a bench measures that build.
const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROOT = path.resolve(OUT, '..');
const CLI = process.env['BENCH_CLI'] ?? path.join(OUT, 'src', 'cli', 'main.js');
const SHARED = process.env['VIGIL_SHARED_DIR'] ?? path.resolve(ROOT, '..', 'shared');
const N = Number(process.env['BENCH_PACKETS'] ?? 2_000_000);
// Best of three by default: on a shared VM single runs vary by 20-30 % (docs/performance.md).
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const WORKERS = process.env['BENCH_WORKERS'] ?? '1';

interface Run {
  seconds: number;
  cpuSeconds: number;
  rssMb: number;
  summary: { packets: number; alerts: number; rules: { loaded: number; skipped: number } };
}

function run(args: string[]): Run {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', process.execPath, CLI, 'analyze', ...args, '--json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`vigil analyze ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  const [rss, user, sys] = lines[lines.length - 1]!.split(' ').map(Number);
  return {
    seconds,
    cpuSeconds: user! + sys!,
    rssMb: rss! / 1024,
    summary: JSON.parse(r.stdout) as Run['summary'],
  };
}

/** Keep the best wall and the best CPU time (they may come from different runs) and the largest RSS. */
function better(b: Run | null, r: Run): Run {
  if (b === null) return r;
  b.seconds = Math.min(b.seconds, r.seconds);
  b.cpuSeconds = Math.min(b.cpuSeconds, r.cpuSeconds);
  b.rssMb = Math.max(b.rssMb, r.rssMb);
  return b;
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

const configs = [
  ['no rules', [] as string[]],
  ['ET Open', ruleArgs],
] as const;
const rows = configs.map(([name]) => ({ name, run: null as Run | null, startup: null as Run | null }));
// The configurations alternate within each round, so a busy spell on a shared machine hits both.
for (let i = 0; i < RUNS; i++)
  configs.forEach(([, extra], k) => {
    const row = rows[k]!;
    row.startup = better(row.startup, run([tiny, ...base, ...extra]));
    row.run = better(row.run, run([pcap, ...base, ...extra]));
  });
const packets = rows[0]!.run!.summary.packets;
console.log(`capture: ${pcap} (${packets} packets), workers ${WORKERS}, best of ${RUNS}`);
console.log(
  '| run | rules loaded | alerts | start-up s (CPU s) | s (start-up subtracted) | packets/s | CPU s (start-up subtracted) | packets/CPU-s | peak RSS MB |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
type Row = { name: string; run: Run; startup: Run };
const done = rows as Row[];
const wall = (r: Row): number => Math.max(1e-6, r.run.seconds - r.startup.seconds);
const cpu = (r: Row): number => Math.max(1e-6, r.run.cpuSeconds - r.startup.cpuSeconds);
for (const r of done)
  console.log(
    `| ${r.name} | ${r.run.summary.rules.loaded} | ${r.run.summary.alerts} | ` +
      `${r.startup.seconds.toFixed(3)} (${r.startup.cpuSeconds.toFixed(2)}) | ${wall(r).toFixed(3)} | ` +
      `${Math.round(packets / wall(r))} | ${cpu(r).toFixed(2)} | ${Math.round(packets / cpu(r))} | ${Math.round(r.run.rssMb)} |`,
  );
console.log(
  `ratio with rules / without: ${(wall(done[0]!) / wall(done[1]!)).toFixed(2)} by wall time, ` +
    `${(cpu(done[0]!) / cpu(done[1]!)).toFixed(2)} by CPU time (target >= 0.50)`,
);
fs.rmSync(work, { recursive: true, force: true });
