/**
 * Live capture: a `tcpdump -w -` child (src/capture/live.ts) against the `cap` libpcap binding,
 * on a bounded loopback flood replayed by tcpreplay (issue 7, item 2; figures in docs/capture.md).
 *
 *   npm run build && node dist/bench/capture-live.js
 *   BENCH_PCAP=/path/x.pcap BENCH_LOOPS=5 BENCH_MODES=tcpdump,cap node dist/bench/capture-live.js
 *   CAP_MODULE=/tmp/capbench/node_modules/cap   # where `cap` is installed (it is not a dependency)
 *   BENCH_PPS=50000                             # replay rate (default --topspeed)
 *
 * Needs root (or capture capabilities) and tcpreplay. Per mode: packets tcpreplay sent, packets
 * the consumer got, kernel drops (tcpdump only: cap does not expose pcap_stats), packets/s over
 * the flood, and CPU seconds of this process plus the tcpdump child (from /proc), per packet.
 * Modes: tcpdump, tcpdump-immediate, cap (capture only: copy into a batch and count) and
 * tcpdump+engine, cap+engine (the full packet engine behind it, built-in rules).
 *
 * api-inline, api-worker (issue 7, item 1): the live sensor as `vigil serve` runs it, on this
 * thread (startLiveSensor) or in a worker thread (startLiveSensorThread), next to an HTTP server
 * whose /health serialises the sensor's stats as /api/health does. A client in a child process
 * sends one request at a time during the flood and the drain (at most BENCH_API_REQUESTS,
 * default 20,000, and BENCH_API_SECONDS, default 120) and reports latency percentiles.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BATCH_PACKETS, PacketBatch, LINKTYPE } from '../src/capture/batch.js';
import { LiveCapture } from '../src/capture/live.js';
import { defaultConfig } from '../src/pipeline/config.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PacketEngine } from '../src/pipeline/engine.js';
import { startLiveSensor } from '../src/pipeline/live-sensor.js';
import type { LiveSensorHandle } from '../src/pipeline/live-sensor.js';
import { startLiveSensorThread } from '../src/pipeline/live-thread.js';
import type { FlowSink } from '../src/pipeline/sink.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED = process.env['VIGIL_SHARED_DIR'] ?? path.resolve(ROOT, '..', 'shared');
const PCAP = process.env['BENCH_PCAP'] ?? path.join(SHARED, 'corpus', 'dos.pcap');
const LOOPS = Number(process.env['BENCH_LOOPS'] ?? 3);
const MODES = (process.env['BENCH_MODES'] ?? 'tcpdump,tcpdump-immediate,cap,tcpdump+engine,cap+engine').split(',');
const IFACE = process.env['BENCH_IFACE'] ?? 'lo';
const PPS = Number(process.env['BENCH_PPS'] ?? 0);
const CLK_TCK = 100;

interface Consumer {
  start(onPacketCount: (n: number) => void): Promise<void>;
  stop(): Promise<{ dropped: number | null }>;
}

function engineSink(): FlowSink {
  return { flow: () => undefined, app: () => undefined, alert: () => undefined, drain: () => null, finish: () => null };
}

/** CPU seconds (user + system) of this process's live children, from /proc. */
function childCpu(): number {
  let s = 0;
  try {
    const kids = fs.readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/);
    for (const k of kids) {
      if (k === '') continue;
      const f = fs.readFileSync(`/proc/${k}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      s += (Number(rest[11]) + Number(rest[12])) / CLK_TCK; // fields 14 and 15: utime, stime
    }
  } catch {
    // A child that just exited: its CPU is lost to the figure, which the report notes.
  }
  return s;
}

function tcpdumpConsumer(immediate: boolean, engine: PacketEngine | null): Consumer {
  let cap: LiveCapture | null = null;
  return {
    start: (on) =>
      new Promise((resolve, reject) => {
        cap = new LiveCapture({
          params: { interface: IFACE, immediate },
          countersIntervalMs: 0,
          retry: { maxRetries: 0 },
          onBatch: (b) => {
            engine?.process(b);
            on(b.count);
          },
          onState: (s) => {
            if (s.state === 'running') resolve();
            if (s.state === 'failed' || s.state === 'unavailable') reject(new Error(`${s.reason}: ${s.message}`));
          },
        });
        cap.start();
      }),
    stop: async () => {
      await cap!.stop();
      return { dropped: cap!.stats().kernel.dropped };
    },
  };
}

interface CapModule {
  Cap: new () => {
    open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
    on(ev: 'packet', fn: (nbytes: number, trunc: boolean) => void): void;
    close(): void;
  };
}

function capConsumer(mod: CapModule, engine: PacketEngine | null): Consumer {
  const c = new mod.Cap();
  const buf = Buffer.alloc(65535);
  // cap hands out one packet at a time in one buffer: copy each into a batch, as a real consumer must.
  const data = Buffer.alloc(BATCH_PACKETS * 2048);
  const batch = new PacketBatch(BATCH_PACKETS, data);
  let used = 0;
  let flushScheduled = false;
  let on: (n: number) => void = () => undefined;
  const flush = (): void => {
    flushScheduled = false;
    if (batch.count === 0) return;
    engine?.process(batch);
    on(batch.count);
    batch.count = 0;
    used = 0;
  };
  return {
    start: (cb) => {
      on = cb;
      const link = c.open(IFACE, '', 32 * 1024 * 1024, buf);
      const lt =
        link === 'ETHERNET'
          ? LINKTYPE.ETHERNET
          : link === 'LINKTYPE_LINUX_SLL'
            ? LINKTYPE.LINUX_SLL
            : LINKTYPE.ETHERNET;
      c.on('packet', (nbytes) => {
        const len = Math.min(nbytes, 2048);
        if (batch.count === BATCH_PACKETS || used + len > data.length) flush();
        const j = batch.count++;
        buf.copy(data, used, 0, len);
        batch.off[j] = used;
        batch.capLen[j] = len;
        batch.origLen[j] = nbytes;
        // cap gives no capture timestamp: the wall clock stands in.
        batch.tsUs[j] = Date.now() * 1000;
        batch.linkType[j] = lt;
        batch.ifIndex[j] = 0;
        used += len;
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      });
      return Promise.resolve();
    },
    stop: () => {
      flush();
      c.close();
      return Promise.resolve({ dropped: null });
    },
  };
}

function replay(): Promise<{ sent: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const rate = PPS > 0 ? `--pps=${PPS}` : '--topspeed';
    const p = spawn('tcpreplay', [rate, '-i', IFACE, `--loop=${LOOPS}`, PCAP], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const m = /Actual: (\d+) packets .* in ([\d.]+) seconds/.exec(out);
      if (code !== 0 || m === null) reject(new Error(`tcpreplay failed (${code}): ${out.slice(-400)}`));
      else resolve({ sent: Number(m[1]), seconds: Number(m[2]) });
    });
  });
}

const API_REQUESTS = Number(process.env['BENCH_API_REQUESTS'] ?? 20_000);
const API_SECONDS = Number(process.env['BENCH_API_SECONDS'] ?? 120);

/**
 * The latency client, in its own process so that a blocked server thread cannot delay it: one
 * keep-alive request at a time until stdin closes or a bound is hit; prints percentiles in ms.
 */
const CLIENT = `
const http = require('http');
const [url, maxN, maxS] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const lat = [];
let stop = false;
process.stdin.on('data', () => (stop = true));
process.stdin.on('end', () => (stop = true));
const t0 = Date.now();
const one = () => new Promise((res, rej) => {
  const t = performance.now();
  http.get(url, { agent }, (r) => { r.resume(); r.on('end', () => res(performance.now() - t)); }).on('error', rej);
});
(async () => {
  while (!stop && lat.length < Number(maxN) && Date.now() - t0 < Number(maxS) * 1000) lat.push(await one());
  lat.sort((a, b) => a - b);
  const q = (p) => lat.length ? Number(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2)) : null;
  console.log(JSON.stringify({ requests: lat.length, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: lat.length ? Number(lat[lat.length - 1].toFixed(1)) : null }));
  agent.destroy();
  process.stdin.destroy();
})();
`;

async function runApiMode(mode: string): Promise<Record<string, unknown>> {
  let sensor: LiveSensorHandle | null = null;
  const server = http.createServer((req, res) => {
    // What /api/health does with the sensor: read its stats and serialise them.
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(sensor?.stats() ?? null));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let got = 0;
  let onRunning: () => void = () => undefined;
  const running = new Promise<void>((r) => (onRunning = r));
  const opts = {
    interface: IFACE,
    // The API's own requests stay out of the capture.
    filter: `not tcp port ${port}`,
    retry: { maxRetries: 0 },
    statsIntervalMs: 1000,
    engineConfig: defaultConfig(),
    onPackets: (n: number) => void (got += n),
    onStats: (st: { capture: { state: string } }) => {
      if (st.capture.state === 'running') onRunning();
    },
  };
  sensor = mode === 'api-worker' ? startLiveSensorThread(opts) : startLiveSensor(opts);
  await running;
  const client = spawn(
    process.execPath,
    ['-e', CLIENT, `http://127.0.0.1:${port}/health`, String(API_REQUESTS), String(API_SECONDS)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  let out = '';
  client.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const clientDone = new Promise<void>((r) => client.on('close', () => r()));
  const sent = await replay();
  // Drain as in runMode: until no packet went through the engine for 1.5 s (bench only).
  for (let guard = 0; guard < 120; guard++) {
    const before = got;
    await new Promise<void>((r) => setTimeout(r, 1500));
    if (got === before) break;
  }
  client.stdin.end();
  await clientDone;
  const st = sensor.stats();
  await sensor.stop();
  await new Promise<void>((r) => server.close(() => r()));
  return {
    mode,
    sent: sent.sent,
    engine_packets: got,
    kernel_dropped: st.capture.kernel.dropped,
    replay_s: sent.seconds,
    api: JSON.parse(out.trim() || 'null') as unknown,
  };
}

async function runMode(mode: string): Promise<Record<string, unknown>> {
  if (mode.startsWith('api-')) return runApiMode(mode);
  const useEngine = mode.endsWith('+engine');
  const engine = useEngine ? new PacketEngine(defaultConfig(), engineSink(), BATCH_PACKETS) : null;
  let consumer: Consumer;
  if (mode.startsWith('cap')) {
    const spec = process.env['CAP_MODULE'] ?? 'cap';
    let mod: CapModule;
    try {
      mod = createRequire(import.meta.url)(spec) as CapModule;
    } catch (e) {
      return { mode, skipped: `cap not loadable from ${spec}: ${(e as Error).message.split('\n')[0]}` };
    }
    consumer = capConsumer(mod, engine);
  } else consumer = tcpdumpConsumer(mode.includes('immediate'), engine);
  let got = 0;
  let first = 0;
  let last = 0;
  let idleResolve: (() => void) | null = null;
  await consumer.start((n) => {
    const t = performance.now();
    if (got === 0) first = t;
    last = t;
    got += n;
    idleResolve?.();
  });
  const cpu0 = process.cpuUsage();
  const child0 = childCpu();
  const sent = await replay();
  // Drain: wait until no packet arrived for 1.5 s, past the 1 s TPACKET_V3 block timeout
  // (bench only; tests wait on events).
  for (let guard = 0; guard < 120; guard++) {
    const before = got;
    await new Promise<void>((r) => {
      idleResolve = null;
      setTimeout(r, 1500);
    });
    if (got === before) break;
  }
  const childCpuS = childCpu() - child0;
  const cpu = process.cpuUsage(cpu0);
  const { dropped } = await consumer.stop();
  engine?.finish();
  const nodeCpuS = (cpu.user + cpu.system) / 1e6;
  const span = (last - first) / 1000;
  return {
    mode,
    sent: sent.sent,
    received: got,
    kernel_dropped: dropped,
    lost: sent.sent - got,
    replay_s: sent.seconds,
    consumer_pps: span > 0 ? Math.round(got / span) : 0,
    node_cpu_s: Number(nodeCpuS.toFixed(2)),
    tcpdump_cpu_s: mode.startsWith('tcpdump') ? Number(childCpuS.toFixed(2)) : 0,
    cpu_us_per_packet:
      got > 0 ? Number((((nodeCpuS + (mode.startsWith('tcpdump') ? childCpuS : 0)) * 1e6) / got).toFixed(2)) : null,
  };
}

console.log(
  `capture-live bench: ${path.basename(PCAP)} x${LOOPS} via tcpreplay ${PPS > 0 ? `--pps=${PPS}` : '--topspeed'} on ${IFACE}`,
);
for (const m of MODES) console.log(JSON.stringify(await runMode(m.trim())));
