/**
 * API load bench (issue 7 acceptance): with 1,000,000 alerts stored, `GET /api/alerts?limit=100`
 * with a filter answers at p99 < 50 ms on SQLite and PostgreSQL.
 *
 * Per backend: fills a fresh store through `insertAlerts` (batches of 10,000, dedup off: the rows
 * are what matters here, not the ingest path, which bench/store-alerts.ts times), resolves the
 * older scans and low-severity alerts by filter as triage would, then starts the real server
 * (`buildServer`, rate limits off) in a child process listening on 127.0.0.1 — so the load
 * generator and the server do not share an event loop — and drives it with autocannon, an API
 * key as bearer token, keep-alive. Each query runs BENCH_DURATION seconds per connection count;
 * queries marked "rotating" cycle through several values (types, severities, addresses, days).
 *
 *   npm run bench:api
 *   BENCH_ALERTS=200000 BENCH_BACKENDS=sqlite BENCH_CONNECTIONS=1 npm run bench:api
 *   BENCH_PG_URL=postgres://... node dist/bench/server-alerts.js   # an existing, empty database
 *
 * Env: BENCH_ALERTS (1,000,000), BENCH_BACKENDS (sqlite,postgres), BENCH_CONNECTIONS (1,10),
 * BENCH_DURATION (seconds per run, 10), BENCH_PG_URL, BENCH_SQLITE_FILE (a store file kept after
 * the run), BENCH_FILL (1; 0 measures the stores BENCH_PG_URL / BENCH_SQLITE_FILE as they are,
 * filled by an earlier run with the same BENCH_ALERTS: fill once, measure in a quiet moment). PostgreSQL otherwise runs as a throwaway
 * server (test/helpers/postgres.ts) without fsync (reads are measured, not commits) and
 * `shared_buffers=256MB`; it is VACUUM ANALYZEd after the load, as autovacuum would, and checkpointed.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { buildServer } from '../src/server/app.js';
import { defaultConfig } from '../src/server/config.js';
import { openRepository } from '../src/store/open.js';
import type { StoreConfig } from '../src/store/open.js';
import type { AlertSeverity, StoredAlertInput } from '../src/store/types.js';
import { startPostgres } from '../test/helpers/postgres.js';
import type { PostgresServer } from '../test/helpers/postgres.js';

const N = Number(process.env['BENCH_ALERTS'] ?? 1_000_000);
const BACKENDS = (process.env['BENCH_BACKENDS'] ?? 'sqlite,postgres').split(',').map((s) => s.trim());
const CONNECTIONS = (process.env['BENCH_CONNECTIONS'] ?? '1,10').split(',').map(Number);
const DURATION_S = Number(process.env['BENCH_DURATION'] ?? 10);
const PG_URL = process.env['BENCH_PG_URL'];
const SQLITE_FILE = process.env['BENCH_SQLITE_FILE'];
const FILL = process.env['BENCH_FILL'] !== '0';
const BATCH = 10_000;
const TARGET_P99_MS = 50;
const ADMIN_PASSWORD = 'bench-admin-password';

const DAY_US = 86_400_000_000;
const WEEKS = 6;
const END_US = Date.UTC(2026, 10, 26) * 1000;
const START_US = END_US - WEEKS * 7 * DAY_US;

/** Deterministic PRNG (mulberry32) so both backends get the same rows. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function weighted<T>(items: readonly (readonly [T, number])[]): (r: number) => T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  return (r) => {
    let x = r * total;
    for (const [v, w] of items) if ((x -= w) < 0) return v;
    return items[items.length - 1]![0];
  };
}

// A busy sensor: scans and floods dominate; severity depends on the type.
const TYPE = weighted([
  ['port_scan', 30],
  ['dos', 20],
  ['brute_force', 15],
  ['sql_injection', 10],
  ['xss', 8],
  ['malware', 5],
  ['recon', 5],
  ['policy', 4],
  ['anomaly', 3],
] as const);
type Sev = (r: number) => AlertSeverity;
const sev = (low: number, medium: number, high: number, critical: number): Sev =>
  weighted<AlertSeverity>([
    ['low', low],
    ['medium', medium],
    ['high', high],
    ['critical', critical],
  ]);
const SEVERITY_OF: Record<string, Sev> = {
  port_scan: sev(50, 40, 10, 0),
  dos: sev(0, 30, 50, 20),
  brute_force: sev(0, 40, 50, 10),
  sql_injection: sev(0, 0, 60, 40),
  xss: sev(0, 50, 50, 0),
  malware: sev(0, 0, 40, 60),
  recon: sev(80, 20, 0, 0),
  policy: sev(70, 30, 0, 0),
  anomaly: sev(20, 50, 30, 0),
};
const TYPES = ['port_scan', 'dos', 'brute_force', 'sql_injection', 'xss', 'malware', 'recon', 'policy', 'anomaly'];
const SEVERITIES: AlertSeverity[] = ['low', 'medium', 'high', 'critical'];

/** 20 % of the alerts come from 50 noisy scanners, the rest from 20,000 internal hosts. */
const NOISY = 50;
const noisyIp = (k: number): string => `203.0.113.${k + 1}`;
const quietIp = (k: number): string => `10.20.${(k >> 8) & 255}.${k & 255}`;

export function makeBatch(start: number, count: number, rand: () => number): StoredAlertInput[] {
  const out: StoredAlertInput[] = [];
  for (let i = start; i < start + count; i++) {
    const type = TYPE(rand());
    const severity = SEVERITY_OF[type]!(rand());
    const tsUs = START_US + Math.floor((i / N) * WEEKS * 7 * DAY_US) + Math.floor(rand() * 60e6);
    const src = rand() < 0.2 ? noisyIp(Math.floor(rand() * NOISY)) : quietIp(Math.floor(rand() * 20_000));
    const dst = `172.16.${Math.floor(rand() * 8)}.${Math.floor(rand() * 250)}`;
    const detector =
      type === 'anomaly'
        ? 'anomaly'
        : rand() < 0.03
          ? 'ml'
          : (type === 'port_scan' || type === 'dos' || type === 'brute_force') && rand() < 0.7
            ? 'behavior'
            : 'signature';
    const udp = type === 'dos' && rand() < 0.3;
    const sid = 3_000_000 + TYPES.indexOf(type) * 100 + Math.floor(rand() * 20);
    const msg = `VIGIL ${type.replace('_', ' ')} detected`;
    const sensor = `sensor-${1 + Math.floor(rand() * 3)}`;
    out.push({
      tsUs,
      type,
      severity,
      detector,
      gid: 1,
      signatureId: sid,
      rev: 1,
      message: msg,
      category: 'Attempted Information Leak',
      sourceIp: src,
      sourcePort: 1024 + Math.floor(rand() * 60000),
      destinationIp: dst,
      destinationPort: udp ? 53 : [22, 80, 443, 3306, 8080][Math.floor(rand() * 5)]!,
      protocol: udp ? 'UDP' : 'TCP',
      appProto: udp ? 'dns' : 'http',
      flowId: 1_000_000_000 + i,
      communityId: '1:' + Buffer.from(String(i)).toString('base64').padEnd(28, 'A'),
      sensor,
      metadata: { vigil_type: [type], detector: [detector], vigil_severity: [severity] },
      evidence: type === 'port_scan' ? { ports: ['22', '80', '443'] } : null,
      mitre: ['T1046'],
      raw: {
        timestamp: new Date(tsUs / 1000).toISOString(),
        flow_id: 1_000_000_000 + i,
        event_type: 'alert',
        host: sensor,
        src_ip: src,
        dest_ip: dst,
        proto: udp ? 'UDP' : 'TCP',
        alert: { action: 'allowed', gid: 1, signature_id: sid, rev: 1, signature: msg, severity: 2 },
        http: { hostname: 'intranet.example', url: '/index.php?id=1', http_user_agent: 'Mozilla/5.0', status: 200 },
        flow: { pkts_toserver: 5, pkts_toclient: 4, bytes_toserver: 600, bytes_toclient: 4000 },
      },
    });
  }
  return out;
}

const isoDay = (us: number): string => new Date(us / 1000).toISOString().slice(0, 10);

/** The queries: a name and the paths it cycles through (each connection walks the list in turn). */
function queries(): { name: string; paths: string[] }[] {
  const L = '/api/alerts?limit=100';
  const range = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));
  return [
    { name: 'no filter', paths: [L] },
    { name: 'type=port_scan', paths: [`${L}&type=port_scan`] },
    { name: 'type (rotating, 9 types)', paths: TYPES.map((t) => `${L}&type=${t}`) },
    { name: 'severity=high&resolved=false', paths: [`${L}&severity=high&resolved=false`] },
    {
      name: 'type + severity (rotating)',
      paths: range(24, (i) => `${L}&type=${TYPES[i % 6]!}&severity=${SEVERITIES[Math.floor(i / 6)]!}`),
    },
    { name: 'source_ip, noisy scanner (rotating)', paths: range(10, (i) => `${L}&source_ip=${noisyIp(i * 5)}`) },
    {
      name: 'source_ip, quiet host (rotating)',
      paths: range(50, (i) => `${L}&source_ip=${quietIp((i * 7919) % 20_000)}`),
    },
    { name: 'ip (either side), noisy scanner (rotating)', paths: range(10, (i) => `${L}&ip=${noisyIp(i * 5 + 1)}`) },
    {
      name: 'start_date..end_date, one day (rotating)',
      paths: range(14, (i) => {
        const d = isoDay(END_US - (3 + i * 3) * DAY_US);
        return `${L}&start_date=${d}&end_date=${d}`;
      }),
    },
    {
      name: 'severity=critical, last 7 days',
      paths: [`${L}&severity=critical&start_date=${isoDay(END_US - 7 * DAY_US)}`],
    },
    { name: 'sort=severity', paths: [`${L}&sort=severity`] },
    { name: 'type=dos&sort=severity&order=asc', paths: [`${L}&type=dos&sort=severity&order=asc`] },
    { name: 'type=brute_force, page 10 (offset=900)', paths: [`${L}&type=brute_force&offset=900`] },
  ];
}

// ---- the server, in a child process ----------------------------------------------------------------------

interface Ready {
  port: number;
  key: string;
}

/** Child: open the store, build and start the server, create an API key, report port and key. */
async function serve(): Promise<void> {
  const store = JSON.parse(process.env['BENCH_STORE']!) as StoreConfig;
  const repo = await openRepository(store);
  const cfg = defaultConfig();
  cfg.adminPassword = ADMIN_PASSWORD;
  cfg.rateLimit.enabled = false;
  cfg.logLevel = 'silent';
  cfg.dataDir = process.env['BENCH_DATA_DIR']!;
  const app = await buildServer({ config: cfg, repo, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const login = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username: 'admin', password: ADMIN_PASSWORD },
  });
  const session = (login.json() as { token: string }).token;
  const created = await app.inject({
    method: 'POST',
    url: '/api/auth/api-keys',
    headers: { authorization: `Bearer ${session}` },
    payload: { name: 'load bench' },
  });
  if (created.statusCode !== 201) throw new Error(`creating the API key: ${created.statusCode} ${created.body}`);
  const ready: Ready = {
    port: (app.server.address() as { port: number }).port,
    key: (created.json() as { key: string }).key,
  };
  process.send!(ready);
  // CPU time of this process on request: the parent divides it by the requests answered (a figure
  // that other jobs on the machine disturb much less than latencies).
  process.on('message', (m) => {
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send!({ cpuUs: u.user + u.system });
    }
  });
  // The parent disconnects when it is done (or dies): close cleanly then.
  process.once('disconnect', () => {
    void app
      .close()
      .then(() => repo.close())
      .finally(() => process.exit(0));
  });
}

function startServer(store: StoreConfig, dataDir: string): Promise<{ child: ChildProcess; ready: Ready }> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      env: {
        ...process.env,
        BENCH_ROLE: 'server',
        BENCH_STORE: JSON.stringify(store),
        BENCH_DATA_DIR: dataDir,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (m) => resolve({ child, ready: m as Ready }));
    child.once('exit', (code) => reject(new Error(`the server process exited (${code}) before it was ready`)));
  });
}

function serverCpuUs(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve((m as { cpuUs: number }).cpuUs));
    child.send('cpu');
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    // Bounded: a server that does not close in 10 s is killed.
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.disconnect();
  });
}

// ---- load ---------------------------------------------------------------------------------------------------

interface Row {
  backend: string;
  query: string;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  /** Server CPU time per request (ms). */
  cpu: number;
  total: string;
}

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** One autocannon run; latencies taken from each response (float ms; autocannon's histogram is whole ms). */
async function load(
  base: string,
  key: string,
  paths: string[],
  connections: number,
  opts: { durationS?: number; amount?: number },
): Promise<{ rps: number; ms: number[] }> {
  const ms: number[] = [];
  let bad = 0;
  const res = await new Promise<autocannon.Result>((resolve, reject) => {
    const inst = autocannon(
      {
        url: base,
        connections,
        ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: opts.durationS ?? DURATION_S }),
        headers: { authorization: `Bearer ${key}` },
        requests: paths.map((p) => ({ method: 'GET', path: p })),
      },
      (err: unknown, result: autocannon.Result) => (err ? reject(err as Error) : resolve(result)),
    );
    inst.on('response', (_client, status, _bytes, responseTime) => {
      if (status === 200) ms.push(responseTime);
      else bad++;
    });
  });
  if (bad > 0 || res.errors > 0 || res.timeouts > 0)
    throw new Error(`${paths[0]}: ${bad} non-200 answers, ${res.errors} errors, ${res.timeouts} timeouts`);
  ms.sort((a, b) => a - b);
  return { rps: ms.length / res.duration, ms };
}

/** Synchronous clean-ups for an interrupted run (a 1M-alert store is over 1 GB of temp files). */
const onAbort = new Set<() => void>();

async function benchBackend(backend: string): Promise<Row[]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-api-'));
  let server: PostgresServer | null = null;
  let child: ChildProcess | null = null;
  const abort = (): void => {
    child?.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  };
  onAbort.add(abort);
  let store: StoreConfig;
  if (backend === 'sqlite')
    store = { backend: 'sqlite', file: SQLITE_FILE ?? path.join(work, 'vigil.db'), dedupWindowS: 0 };
  else if (backend === 'postgres') {
    if (PG_URL !== undefined) store = { backend: 'postgres', url: PG_URL, dedupWindowS: 0 };
    else {
      server = await startPostgres({ settings: { shared_buffers: '256MB' } });
      store = { backend: 'postgres', url: await server.createDatabase('bench'), dedupWindowS: 0 };
    }
  } else throw new Error(`unknown backend "${backend}" (BENCH_BACKENDS: sqlite, postgres)`);
  if (!FILL && !(backend === 'sqlite' ? SQLITE_FILE !== undefined : PG_URL !== undefined))
    throw new Error(`BENCH_FILL=0 needs a filled store: BENCH_${backend === 'sqlite' ? 'SQLITE_FILE' : 'PG_URL'}`);
  try {
    const repo = await openRepository(store);
    try {
      if (!FILL) {
        const n = (await repo.listAlerts({ limit: 1 })).total;
        console.log(`${backend}: measuring the store as it is (${n > 10_000 ? `about ${n}` : n} alerts)`);
      } else {
        const rand = rng(42);
        const t0 = performance.now();
        for (let i = 0; i < N; i += BATCH) {
          await repo.insertAlerts(makeBatch(i, Math.min(BATCH, N - i), rand));
          if ((i / BATCH) % 10 === 0) process.stderr.write(`\r${backend}: ${Math.min(i + BATCH, N)} / ${N}`);
        }
        const fillS = (performance.now() - t0) / 1000;
        process.stderr.write('\n');
        console.log(`${backend}: stored ${N} alerts in ${fillS.toFixed(1)} s (${Math.round(N / fillS)} alerts/s)`);
        // Triage: scans, recon and policy alerts older than a week, and low-severity ones older than two.
        const t1 = performance.now();
        let resolved = await repo.resolveAlerts(
          { filter: { type: ['port_scan', 'recon', 'policy'], toUs: END_US - 7 * DAY_US } },
          'bench',
        );
        resolved += await repo.resolveAlerts({ filter: { severity: 'low', toUs: END_US - 14 * DAY_US } }, 'bench');
        console.log(`${backend}: resolved ${resolved} alerts in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
      }
    } finally {
      await repo.close();
    }
    if (FILL && store.backend === 'postgres') {
      const c = new pg.Client({ connectionString: store.url });
      await c.connect();
      try {
        const t2 = performance.now();
        await c.query('VACUUM ANALYZE alerts');
        // The load left ~1 GB of dirty pages: written now, not by the checkpointer during the runs.
        await c.query('CHECKPOINT');
        console.log(`${backend}: VACUUM ANALYZE + CHECKPOINT in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
      } finally {
        await c.end();
      }
    }

    const started = await startServer(store, work);
    child = started.child;
    const { port, key } = started.ready;
    const base = `http://127.0.0.1:${port}`;
    const rows: Row[] = [];
    for (const q of queries()) {
      // The first answer's total (exact, or an estimate above 10,000), shown with the figures.
      const first = await fetch(base + q.paths[0]!, { headers: { authorization: `Bearer ${key}` } });
      if (first.status !== 200) throw new Error(`${q.paths[0]}: ${first.status} ${await first.text()}`);
      const page = (await first.json()) as { total: number; total_exact: boolean };
      const total = `${page.total}${page.total_exact ? '' : ' (est.)'}`;
      await load(base, key, q.paths, 1, { amount: 50 }); // warm-up
      for (const c of CONNECTIONS) {
        const cpu0 = await serverCpuUs(child);
        const r = await load(base, key, q.paths, c, { durationS: DURATION_S });
        const cpu = (await serverCpuUs(child)) - cpu0;
        const row: Row = {
          backend,
          query: q.name,
          connections: c,
          rps: r.rps,
          p50: pct(r.ms, 50),
          p99: pct(r.ms, 99),
          max: r.ms[r.ms.length - 1]!,
          cpu: cpu / 1000 / r.ms.length,
          total,
        };
        rows.push(row);
        console.log(
          `${backend} | ${q.name} | c=${c}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, server CPU ${row.cpu.toFixed(2)} ms/request`,
        );
      }
    }
    return rows;
  } finally {
    if (child !== null) await stopServer(child);
    await server?.stop();
    fs.rmSync(work, { recursive: true, force: true });
    onAbort.delete(abort);
  }
}

async function main(): Promise<void> {
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      for (const f of onAbort) f();
      process.exit(130); // the PostgreSQL helper stops its server in its 'exit' hook
    });
  if (!Number.isInteger(N) || N < 1000) throw new Error('BENCH_ALERTS must be an integer >= 1000');
  if (CONNECTIONS.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('BENCH_CONNECTIONS: positive integers');
  if (!(DURATION_S > 0)) throw new Error('BENCH_DURATION must be a positive number of seconds');
  const all: Row[] = [];
  for (const b of BACKENDS) all.push(...(await benchBackend(b)));
  console.log(
    `\nGET /api/alerts?limit=100&..., ${N} alerts stored, autocannon ${DURATION_S} s per row, keep-alive, API key; ` +
      `${os.cpus().length} cores, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  console.log(
    '| backend | query | connections | req/s | p50 ms | p99 ms | max ms | server CPU ms/req | total | p99 < 50 ms |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|:---:|');
  for (const r of all)
    console.log(
      `| ${r.backend} | ${r.query} | ${r.connections} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ` +
        `${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.cpu.toFixed(2)} | ${r.total} | ${r.p99 < TARGET_P99_MS ? 'yes' : '**no**'} |`,
    );
  const missed = all.filter((r) => r.p99 >= TARGET_P99_MS);
  console.log(
    missed.length === 0
      ? `\nall ${all.length} rows: p99 < ${TARGET_P99_MS} ms`
      : `\n${missed.length} of ${all.length} rows miss p99 < ${TARGET_P99_MS} ms`,
  );
}

// Run only when executed (the data generator is importable, e.g. to EXPLAIN the queries by hand).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.env['BENCH_ROLE'] === 'server') await serve();
  else await main();
}
