/**
 * Storage bench (issue 7, Storage): store 1M alerts through the repository in batches, then time
 * the alert list queries the API serves (`limit=100`, ORDER BY timestamp DESC, with the total) on
 * SQLite and PostgreSQL. Target: the filtered list at p99 < 50 ms.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/store-alerts.js
 *   BENCH_ALERTS=200000 BENCH_BACKENDS=sqlite node dist/bench/store-alerts.js
 *   BENCH_PG_URL=postgres://... node dist/bench/store-alerts.js   # an existing, empty database
 *
 * Data: a month of alerts, type and severity drawn with the skew of a busy sensor (scans and floods
 * dominate), 20,000 sources, 2,000 destinations, EVE records of ~700 bytes; the dedup window is
 * on (300 s) so each batch pays the dedup lookup, with keys that do not repeat. A fifth of the
 * older alerts is bulk-resolved, as triage would. PostgreSQL runs as a throwaway server with its
 * default durability (fsync on) and is VACUUM ANALYZEd after the load, which autovacuum does on
 * its own in a live system.
 */
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { openRepository } from '../src/store/open.js';
import type { StoreConfig } from '../src/store/open.js';
import type { Repository } from '../src/store/repository.js';
import type { AlertListQuery, AlertSeverity, StoredAlertInput } from '../src/store/types.js';
import { startPostgres } from '../test/helpers/postgres.js';
import type { PostgresServer } from '../test/helpers/postgres.js';

const N = Number(process.env['BENCH_ALERTS'] ?? 1_000_000);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 1000);
const QUERIES = Number(process.env['BENCH_QUERIES'] ?? 1000);
const BACKENDS = (process.env['BENCH_BACKENDS'] ?? 'sqlite,postgres').split(',').map((s) => s.trim());
const PG_URL = process.env['BENCH_PG_URL'];

const DAY_US = 86_400_000_000;
const END_US = Date.UTC(2026, 10, 26) * 1000;
const START_US = END_US - 30 * DAY_US;

/** Deterministic PRNG (mulberry32) so both backends get the same data. */
function rng(seed: number): () => number {
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
const SEVERITY = weighted<AlertSeverity>([
  ['low', 35],
  ['medium', 35],
  ['high', 22],
  ['critical', 8],
]);
const ip = (net: string, k: number): string => `${net}.${(k >> 8) & 255}.${k & 255}`;

function makeBatch(start: number, count: number, rand: () => number): StoredAlertInput[] {
  const out: StoredAlertInput[] = [];
  for (let i = start; i < start + count; i++) {
    const type = TYPE(rand());
    const severity = SEVERITY(rand());
    const tsUs = START_US + Math.floor((i / N) * 30 * DAY_US) + Math.floor(rand() * 1e6);
    const src = ip('10.20', Math.floor(rand() * 20_000));
    const dst = ip('172.16', Math.floor(rand() * 2000));
    const sid = 3_000_000 + i;
    const msg = `VIGIL ${type.replace('_', ' ')} detected`;
    out.push({
      tsUs,
      type,
      severity,
      detector: type === 'anomaly' ? 'anomaly' : rand() < 0.6 ? 'signature' : 'behavior',
      gid: 1,
      signatureId: sid,
      rev: 1,
      message: msg,
      category: 'Attempted Information Leak',
      sourceIp: src,
      sourcePort: 1024 + Math.floor(rand() * 60000),
      destinationIp: dst,
      destinationPort: 80,
      protocol: 'TCP',
      appProto: 'http',
      flowId: 1_000_000_000 + i,
      communityId: '1:' + Buffer.from(String(i)).toString('base64').padEnd(28, 'A'),
      sensor: 'sensor-1',
      metadata: {
        vigil_type: [type],
        detector: ['signature'],
        vigil_severity: [severity],
        mitre_technique_id: ['T1046'],
      },
      evidence: { ports: ['22', '80', '443'] },
      mitre: ['T1046'],
      raw: {
        timestamp: new Date(tsUs / 1000).toISOString(),
        flow_id: 1_000_000_000 + i,
        event_type: 'alert',
        host: 'sensor-1',
        src_ip: src,
        src_port: 40000,
        dest_ip: dst,
        dest_port: 80,
        proto: 'TCP',
        app_proto: 'http',
        direction: 'to_server',
        alert: {
          action: 'allowed',
          gid: 1,
          signature_id: sid,
          rev: 1,
          signature: msg,
          category: 'Attempted Information Leak',
          severity: 2,
          metadata: { vigil_type: [type], detector: ['signature'], vigil_severity: [severity] },
        },
        http: { hostname: 'intranet.example', url: '/index.php?id=1', http_user_agent: 'Mozilla/5.0', status: 200 },
        flow: { pkts_toserver: 5, pkts_toclient: 4, bytes_toserver: 600, bytes_toclient: 4000, start: '' },
      },
    });
  }
  return out;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Row {
  backend: string;
  query: string;
  p50: number;
  p99: number;
  max: number;
  total: string;
}

async function timeQuery(
  repo: Repository,
  backend: string,
  name: string,
  make: (i: number) => AlertListQuery,
): Promise<Row> {
  for (let i = 0; i < 20; i++) await repo.listAlerts(make(i));
  const ms: number[] = [];
  let total = '';
  for (let i = 0; i < QUERIES; i++) {
    const q = make(i);
    const t0 = performance.now();
    const page = await repo.listAlerts(q);
    ms.push(performance.now() - t0);
    if (i === 0) total = `${page.total}${page.total_exact ? '' : ' (est.)'}`;
  }
  ms.sort((a, b) => a - b);
  return { backend, query: name, p50: pct(ms, 50), p99: pct(ms, 99), max: ms[ms.length - 1]!, total };
}

async function timeOnce(label: string, fn: () => Promise<unknown>): Promise<[string, number]> {
  const t0 = performance.now();
  await fn();
  return [label, performance.now() - t0];
}

const TYPES = ['port_scan', 'dos', 'brute_force', 'sql_injection', 'xss', 'malware'];
const SEVS: AlertSeverity[] = ['critical', 'high', 'medium', 'low'];

async function benchBackend(backend: string): Promise<{ rows: Row[]; extra: [string, number][] }> {
  let server: PostgresServer | null = null;
  let cfg: StoreConfig;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-store-'));
  if (backend === 'sqlite') cfg = { backend: 'sqlite', file: path.join(work, 'vigil.db'), dedupWindowS: 300 };
  else if (PG_URL !== undefined) cfg = { backend: 'postgres', url: PG_URL, dedupWindowS: 300 };
  else {
    server = await startPostgres({ durable: true, settings: { shared_buffers: '256MB' } });
    cfg = { backend: 'postgres', url: await server.createDatabase('bench'), dedupWindowS: 300 };
  }
  const repo = await openRepository(cfg);
  const extra: [string, number][] = [];
  try {
    const rand = rng(42);
    const t0 = performance.now();
    let stored = 0;
    for (let i = 0; i < N; i += BATCH) {
      const res = await repo.insertAlerts(makeBatch(i, Math.min(BATCH, N - i), rand));
      for (const r of res) if (r.isNew) stored++;
      if ((i / BATCH) % 100 === 0) process.stderr.write(`\r${backend}: ${i + BATCH} / ${N}`);
    }
    const insertS = (performance.now() - t0) / 1000;
    process.stderr.write('\n');
    console.log(
      `${backend}: stored ${stored} rows in ${insertS.toFixed(1)} s (${Math.round(N / insertS)} alerts/s, batches of ${BATCH})`,
    );
    extra.push(
      await timeOnce('bulk resolve (filter: port_scan, first 20 days)', () =>
        repo.resolveAlerts({ filter: { type: 'port_scan', toUs: START_US + 20 * DAY_US } }, 'bench'),
      ),
    );
    if (cfg.backend === 'postgres') {
      const c = new pg.Client({ connectionString: cfg.url });
      await c.connect();
      const v0 = performance.now();
      await c.query('VACUUM ANALYZE alerts');
      extra.push(['VACUUM ANALYZE alerts (once after the load)', performance.now() - v0]);
      const size = await c.query<{ s: string }>('SELECT pg_size_pretty(pg_database_size(current_database())) AS s');
      console.log(`${backend}: database size ${size.rows[0]!.s}`);
      await c.end();
    } else {
      console.log(`${backend}: database file ${(fs.statSync(cfg.file).size / 2 ** 20).toFixed(0)} MiB`);
    }

    const rows: Row[] = [];
    const last = END_US;
    rows.push(
      await timeQuery(repo, backend, 'type + severity (rotating)', (i) => ({
        type: TYPES[i % TYPES.length]!,
        severity: SEVS[Math.floor(i / TYPES.length) % SEVS.length]!,
        limit: 100,
      })),
    );
    rows.push(await timeQuery(repo, backend, 'no filter', () => ({ limit: 100 })));
    rows.push(
      await timeQuery(repo, backend, 'unresolved + type', (i) => ({
        resolved: false,
        type: TYPES[i % TYPES.length]!,
        limit: 100,
      })),
    );
    rows.push(
      await timeQuery(repo, backend, 'source_ip (rotating)', (i) => ({
        sourceIp: ip('10.20', (i * 7919) % 20_000),
        limit: 100,
      })),
    );
    rows.push(
      await timeQuery(repo, backend, 'severity + last 24 h', (i) => ({
        severity: SEVS[i % SEVS.length]!,
        fromUs: last - DAY_US,
        toUs: last,
        limit: 100,
      })),
    );
    rows.push(
      await timeQuery(repo, backend, 'type, page 10 (offset 900)', (i) => ({
        type: TYPES[i % TYPES.length]!,
        limit: 100,
        offset: 900,
      })),
    );
    rows.push(await timeQuery(repo, backend, 'sort by severity', () => ({ sort: 'severity', limit: 100 })));
    extra.push(await timeOnce('summary (whole table)', () => repo.alertSummary()));
    extra.push(await timeOnce('summary (last 24 h)', () => repo.alertSummary({ fromUs: last - DAY_US })));
    extra.push(await timeOnce('critical (50 newest unresolved high/critical)', () => repo.criticalAlerts()));
    extra.push(
      await timeOnce('history (hourly, last 7 days)', () =>
        repo.alertHistory({ bucket: 'hour', fromUs: last - 7 * DAY_US, toUs: last }),
      ),
    );
    extra.push(await timeOnce('get by id', () => repo.getAlert(12345)));
    return { rows, extra };
  } finally {
    await repo.close();
    await server?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const all: Row[] = [];
const extras: { backend: string; items: [string, number][] }[] = [];
for (const b of BACKENDS) {
  const r = await benchBackend(b);
  all.push(...r.rows);
  extras.push({ backend: b, items: r.extra });
}
console.log(`\nalert list, limit=100, ORDER BY timestamp DESC with total; ${QUERIES} queries each, ${N} alerts stored`);
console.log('| backend | filter | p50 ms | p99 ms | max ms | total |');
console.log('|---|---|---:|---:|---:|---:|');
for (const r of all)
  console.log(
    `| ${r.backend} | ${r.query} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} | ${r.total} |`,
  );
console.log('\n| backend | operation | ms |');
console.log('|---|---|---:|');
for (const e of extras) for (const [k, v] of e.items) console.log(`| ${e.backend} | ${k} | ${v.toFixed(1)} |`);
const worst = Math.max(...all.filter((r) => r.query.startsWith('type + severity')).map((r) => r.p99));
console.log(`\nfiltered list p99 (worst backend): ${worst.toFixed(2)} ms (target < 50 ms)`);
