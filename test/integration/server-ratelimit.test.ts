/**
 * Rate limits as the original lists them (Flask-Limiter, per client address and route): 50 per
 * minute and 200 per hour by default, the stricter per-route limits, 429 with Retry-After at the
 * documented count, and the configuration switches (RATE_LIMIT_DEFAULT, RATE_LIMIT_ENABLED, per-route
 * overrides in the config file).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { loadServerConfig } from '../../src/server/config.js';
import type { ServerConfig } from '../../src/server/config.js';
import { openRepository } from '../../src/store/open.js';
import { ADMIN_PASSWORD, assertError } from './server-suite.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ratelimit-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let dbs = 0;

interface Server {
  app: FastifyInstance;
  token: string;
  call(
    method: InjectOptions['method'],
    url: string,
    opts?: { body?: object; ip?: string },
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

async function server(env: Record<string, string> = {}, file: string | null = null): Promise<Server> {
  const cfg: ServerConfig = loadServerConfig({
    env: { VIGIL_ADMIN_PASSWORD: ADMIN_PASSWORD, LOG_LEVEL: 'silent', ...env },
    file,
  });
  const repo = await openRepository({
    backend: 'sqlite',
    file: path.join(dir, `db-${++dbs}`, 'vigil.db'),
    dedupWindowS: 300,
  });
  const app = await buildServer({ config: cfg, repo, logger: false });
  const login = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username: 'admin', password: ADMIN_PASSWORD },
  });
  assert.equal(login.statusCode, 200, login.body);
  const token = (login.json() as { token: string }).token;
  return {
    app,
    token,
    call: (method, url, opts = {}) =>
      app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(opts.body !== undefined ? { payload: opts.body } : {}),
        ...(opts.ip !== undefined ? { remoteAddress: opts.ip } : {}),
      }),
    async close() {
      await app.close();
      await repo.close();
    },
  };
}

/** Calls until the first non-2xx/404 answer (bounded); returns how many passed and the refusal. */
async function until429(
  s: Server,
  method: InjectOptions['method'],
  url: string,
  opts: { body?: object; ip?: string } = {},
  max = 300,
): Promise<{ passed: number; refused: LightMyRequestResponse | null }> {
  for (let i = 0; i < max; i++) {
    const r = await s.call(method, url, opts);
    if (r.statusCode === 429) return { passed: i, refused: r };
    assert.ok(r.statusCode < 500, r.body);
  }
  return { passed: max, refused: null };
}

test('default limits: the 51st request in a minute on a route gets 429 with Retry-After', async () => {
  const s = await server();
  try {
    const { passed, refused } = await until429(s, 'GET', '/api/alerts');
    assert.equal(passed, 50);
    assert.ok(refused !== null);
    assertError(refused, 429, 'VIGIL_API_RATE_LIMITED');
    const retry = Number(refused.headers['retry-after']);
    assert.ok(retry >= 1 && retry <= 60, String(retry));
    // Counters are per route and per client address.
    assert.equal((await s.call('GET', '/api/alerts/summary')).statusCode, 200);
    assert.equal((await s.call('GET', '/api/alerts', { ip: '10.1.1.1' })).statusCode, 200);
    // Health is never limited (monitoring polls it).
    for (let i = 0; i < 60; i++) assert.equal((await s.call('GET', '/api/health')).statusCode, 200);
  } finally {
    await s.close();
  }
});

test('per-route limits of the original: delete 10, bulk delete 5, bulk resolve 10 per minute', async () => {
  const s = await server();
  try {
    assert.equal((await until429(s, 'DELETE', '/api/alerts/12345')).passed, 10);
    assert.equal((await until429(s, 'POST', '/api/alerts/bulk-delete', { body: { ids: [1] } })).passed, 5);
    assert.equal((await until429(s, 'POST', '/api/alerts/bulk-resolve', { body: { ids: [1] } })).passed, 10);
    // Login (not in the original) allows 10 per minute; one was used to get the token.
    const login = { username: 'admin', password: 'wrong-password' };
    let n = 0;
    for (; n < 20; n++) {
      const r = await s.app.inject({ method: 'POST', url: '/api/auth/login', payload: login });
      if (r.statusCode === 429) break;
      assert.equal(r.statusCode, 401);
    }
    assert.equal(n, 9);
  } finally {
    await s.close();
  }
});

test('the hourly window: RATE_LIMIT_DEFAULT="4 per hour; 50 per minute" refuses the 5th for about an hour', async () => {
  const s = await server({ RATE_LIMIT_DEFAULT: '4 per hour; 50 per minute' });
  try {
    const { passed, refused } = await until429(s, 'GET', '/api/stats/realtime');
    assert.equal(passed, 4);
    const retry = Number(refused!.headers['retry-after']);
    assert.ok(retry > 3500 && retry <= 3600, String(retry));
    assert.equal(refused!.headers['x-ratelimit-remaining'], '0');
  } finally {
    await s.close();
  }
});

test('per-route override in the config file, and RATE_LIMIT_ENABLED=false', async () => {
  const file = path.join(dir, 'server.yaml');
  fs.writeFileSync(file, 'rateLimit:\n  routes:\n    "GET /api/alerts/summary": "2 per minute"\n');
  const s = await server({}, file);
  try {
    assert.equal((await until429(s, 'GET', '/api/alerts/summary')).passed, 2);
  } finally {
    await s.close();
  }
  const off = await server({ RATE_LIMIT_ENABLED: 'false' });
  try {
    assert.equal((await until429(off, 'GET', '/api/alerts', {}, 80)).refused, null);
  } finally {
    await off.close();
  }
});
