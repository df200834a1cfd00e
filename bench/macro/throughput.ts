/**
 * Packet-engine throughput: `vigil analyze --no-detect` (1 and 2 workers) against tcpdump,
 * ndpiReader and tshark on the same capture in the same run (issue 3).
 *
 *   npm run bench:throughput                # builds a 2,000,000-packet capture in $TMPDIR first
 *   BENCH_PCAP=/path/big.pcap npm run bench:throughput
 *   BENCH_PACKETS=500000 npm run bench:throughput
 *
 * Wall clock per command; Vigil's start-up cost (node, module load, worker spawn) is measured on a
 * 10-packet capture in the same run and subtracted. Peak RSS and CPU time (user + system, which
 * moves less than wall time on a shared machine) from GNU time. BENCH_CLI: the vigil main.js to
 * time (default: this build's dist/src/cli/main.js).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = process.env['BENCH_CLI'] ?? path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const SHARED = process.env['VIGIL_SHARED_DIR'] ?? path.resolve(ROOT, '..', 'shared');
const N = Number(process.env['BENCH_PACKETS'] ?? 2_000_000);

function sh(
  cmd: string,
  args: string[],
): { seconds: number; cpuSeconds: number; rssMb: number; stdout: string; status: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const lines = (r.stderr ?? '').trim().split('\n');
  const [rssKb, user, sys] = (lines[lines.length - 1] ?? '').split(' ').map(Number);
  return {
    seconds,
    cpuSeconds: (user ?? NaN) + (sys ?? NaN),
    rssMb: (rssKb ?? NaN) / 1024,
    stdout: r.stdout ?? '',
    status: r.status ?? -1,
  };
}

function best(cmd: string, args: string[], runs: number): ReturnType<typeof sh> {
  let b: ReturnType<typeof sh> | null = null;
  for (let i = 0; i < runs; i++) {
    const r = sh(cmd, args);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
    if (!b || r.seconds < b.seconds) b = r;
  }
  return b!;
}

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
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
const size = fs.statSync(pcap).size;
const packets = Number(
  spawnSync('capinfos', ['-c', '-M', '-T', '-r', pcap], { encoding: 'utf8' }).stdout.split('\t')[1],
);
// Best of three by default: on a shared VM single runs vary by 20-30 % (docs/performance.md).
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);

interface Row {
  name: string;
  seconds: number;
  cpuSeconds: number;
  rssMb: number;
}
const rows: Row[] = [];
for (const workers of [1, 2]) {
  const args = [CLI, 'analyze', '--no-detect', '--json', '--workers', String(workers)];
  const start = best(process.execPath, [...args, tiny], 3);
  const run = best(process.execPath, [...args, pcap], RUNS);
  const s = JSON.parse(run.stdout) as { packets: number };
  if (s.packets !== packets) throw new Error(`vigil counted ${s.packets} packets, capinfos ${packets}`);
  rows.push({
    name: `vigil ${workers} worker${workers > 1 ? 's' : ''} (start-up ${start.seconds.toFixed(3)} s subtracted)`,
    seconds: run.seconds - start.seconds,
    cpuSeconds: run.cpuSeconds - start.cpuSeconds,
    rssMb: run.rssMb,
  });
}
if (have('tcpdump'))
  rows.push({
    name: 'tcpdump -nn -r FILE -w /dev/null',
    ...best('tcpdump', ['-nn', '-r', pcap, '-w', '/dev/null'], RUNS),
  });
if (have('ndpiReader')) rows.push({ name: 'ndpiReader -i FILE -q', ...best('ndpiReader', ['-i', pcap, '-q'], 1) });
if (have('tshark')) rows.push({ name: 'tshark -r FILE -q', ...best('tshark', ['-r', pcap, '-q'], 1) });

const vigil1 = rows[0]!.seconds;
console.log(
  `capture: ${pcap}: ${packets} packets, ${(size / 1048576).toFixed(1)} MiB; ${os.cpus().length} cores, node ${process.version}`,
);
console.log(
  '| tool | seconds | packets/s | MB/s | CPU s | packets/CPU-s | peak RSS MB | vigil(1) speed / tool speed |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.seconds.toFixed(3)} | ${Math.round(packets / r.seconds).toLocaleString('en')} | ${(size / 1e6 / r.seconds).toFixed(1)} | ${r.cpuSeconds.toFixed(2)} | ${Math.round(packets / r.cpuSeconds).toLocaleString('en')} | ${r.rssMb.toFixed(0)} | ${(r.seconds / vigil1).toFixed(2)} |`,
  );
}
if (!process.env['BENCH_PCAP']) fs.rmSync(work, { recursive: true, force: true });
