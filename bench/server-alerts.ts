/**
 * API latency bench (issue 7 acceptance: `GET /api/alerts?limit=100` with a filter at p99 < 50 ms):
 * stores N alerts in SQLite (or PostgreSQL with BENCH_PG_URL, an existing empty database), starts
 * the server on 127.0.0.1, and times the list over HTTP with keep-alive: sequential requests for
 * p50/p99, then BENCH_CONCURRENCY clients in parallel for requests per second. Rate limits off.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/server-alerts.js
 *   BENCH_ALERTS=1000000 BENCH_REQUESTS=2000 node dist/bench/server-alerts.js
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { buildServer } from '../src/server/app.js';
import { defaultConfig } from '../src/server/config.js';
import { openRepository } from '../src/store/open.js';
import type { AlertSeverity, StoredAlertInput } from '../src/store/types.js';

const N = Number(process.env['BENCH_ALERTS'] ?? 200_000);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 1000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 10);
const PG_URL = process.env['BENCH_PG_URL'];
const BATCH = 5000;
const DAY_US = 86_400_000_000;
const END_US = Date.UTC(2026, 10, 26) * 1000;

/** Deterministic PRNG (mulberry32). */
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

const TYPES = ['port_scan', 'dos', 'brute_force', 'sql_injection', 'xss', 'malware', 'anomaly'];
const SEVERITIES: AlertSeverity[] = ['low', 'medium', 'medium', 'high', 'critical'];

function alerts(r: () => number, from: number, count: number): StoredAlertInput[] {
  const out: StoredAlertInput[] = [];
  for (let i = 0; i < count; i++) {
    const k = from + i;
    out.push({
      tsUs: END_US - 30 * DAY_US + Math.floor((k / N) * 30 * DAY_US),
      type: TYPES[Math.floor(r() * r() * TYPES.length)]!,
      severity: SEVERITIES[Math.floor(r() * SEVERITIES.length)]!,
      detector: 'signature',
      gid: 1,
      signatureId: k,
      rev: 1,
      message: 'bench alert',
      category: 'bench',
      sourceIp: `10.${(k >> 8) & 255}.${k & 255}.${Math.floor(r() * 80)}`,
      sourcePort: 40000,
      destinationIp: `192.168.0.${Math.floor(r() * 250)}`,
      destinationPort: 80,
      protocol: 'TCP',
      appProto: null,
      flowId: k,
      communityId: null,
      sensor: 'bench',
      metadata: {},
      evidence: null,
      mitre: [],
      raw: { event_type: 'alert', pad: 'x'.repeat(500) },
    });
  }
  return out;
}

function get(agent: http.Agent, port: number, url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.get(
      { host: '127.0.0.1', port, path: url, agent, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode}`));
          else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
        });
      },
    );
    req.on('error', reject);
  });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-server-'));
  const repo = await openRepository(
    PG_URL !== undefined
      ? { backend: 'postgres', url: PG_URL, dedupWindowS: 0 }
      : { backend: 'sqlite', file: path.join(dir, 'vigil.db'), dedupWindowS: 0 },
  );
  const cfg = defaultConfig();
  cfg.adminPassword = 'bench-admin-password';
  cfg.rateLimit.enabled = false;
  cfg.logLevel = 'silent';
  const app = await buildServer({ config: cfg, repo, logger: false });
  try {
    const r = rng(7);
    const t0 = Date.now();
    for (let i = 0; i < N; i += BATCH) await repo.insertAlerts(alerts(r, i, Math.min(BATCH, N - i)));
    console.log(`${repo.backend}: stored ${N} alerts in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const login = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: 'bench-admin-password' },
    });
    const token = (login.json() as { token: string }).token;
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const urls = [
      '/api/alerts?limit=100',
      '/api/alerts?limit=100&severity=critical',
      '/api/alerts?limit=100&type=sql_injection&resolved=false',
      '/api/alerts?limit=100&source_ip=10.0.5.3',
    ];
    for (const url of urls) {
      for (let i = 0; i < 20; i++) await get(agent, port, url, token); // warm-up
      const times: number[] = [];
      for (let i = 0; i < REQUESTS; i++) times.push(await get(agent, port, url, token));
      times.sort((a, b) => a - b);
      const start = Date.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < REQUESTS) {
            next++;
            await get(agent, port, url, token);
          }
        }),
      );
      const rps = REQUESTS / ((Date.now() - start) / 1000);
      console.log(
        `${url}: p50 ${pct(times, 50).toFixed(1)} ms, p99 ${pct(times, 99).toFixed(1)} ms (sequential); ${rps.toFixed(0)} req/s with ${CONCURRENCY} clients`,
      );
    }
    agent.destroy();
  } finally {
    await app.close();
    await repo.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
