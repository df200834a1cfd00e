/**
 * The API test body, run against every backend (server-sqlite.test.ts, server-postgres.test.ts):
 * for every route of the OpenAPI document, success, a validation error (400), no credentials (401)
 * and a role too low (403) where the route has input or needs more than viewer; plus login,
 * sessions, API keys, user management, the audit log, and "every GET on a fresh store answers 200".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { defaultConfig } from '../../src/server/config.js';
import type { ServerConfig } from '../../src/server/config.js';
import type { Repository } from '../../src/store/repository.js';
import type { StoredAlertInput } from '../../src/store/types.js';
import { tempDir } from '../helpers/paths.js';

export interface ServerBackend {
  name: 'sqlite' | 'postgres';
  /** A repository on a new, empty database. */
  newRepository(): Promise<Repository>;
}

export const ADMIN_PASSWORD = 'admin-password-for-tests';

/**
 * Server configuration for tests: known admin password, quiet, no rate limits, and a data directory
 * of its own (the default `./data` would put a store, models and uploads into the checkout).
 */
export function testConfig(over: Partial<ServerConfig> = {}): ServerConfig {
  const cfg = defaultConfig();
  cfg.dataDir = tempDir('vigil-server-');
  cfg.adminPassword = ADMIN_PASSWORD;
  cfg.logLevel = 'silent';
  cfg.rateLimit.enabled = false;
  return { ...cfg, ...over };
}

/** 2026-11-26T10:00:00Z in microseconds. */
const T0 = Date.UTC(2026, 10, 26, 10, 0, 0) * 1000;
const S = 1_000_000;

let n = 0;
export function alertInput(over: Partial<StoredAlertInput> = {}): StoredAlertInput {
  n++;
  return {
    tsUs: T0 + n * S,
    type: 'port_scan',
    severity: 'medium',
    detector: 'behavior',
    gid: 1,
    signatureId: 9_000_000 + n,
    rev: 1,
    message: 'VIGIL port scan',
    category: 'Detection of a Network Scan',
    sourceIp: '10.0.0.1',
    sourcePort: 40000,
    destinationIp: '10.0.0.2',
    destinationPort: 80,
    protocol: 'TCP',
    appProto: null,
    flowId: 1000 + n,
    communityId: null,
    sensor: 'sensor-a',
    metadata: {},
    evidence: null,
    mitre: [],
    raw: { event_type: 'alert', n },
    ...over,
  };
}

export interface Client {
  app: FastifyInstance;
  call(
    method: InjectOptions['method'],
    url: string,
    opts?: { token?: string | null; body?: unknown; cookie?: string },
  ): Promise<LightMyRequestResponse>;
  login(username: string, password: string): Promise<string>;
}

export function client(app: FastifyInstance): Client {
  const call: Client['call'] = (method, url, opts = {}) =>
    app.inject({
      method,
      url,
      ...(opts.token !== undefined && opts.token !== null
        ? { headers: { authorization: `Bearer ${opts.token}` } }
        : {}),
      ...(opts.cookie !== undefined ? { cookies: { vigil_session: opts.cookie } } : {}),
      ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
    });
  return {
    app,
    call,
    async login(username, password) {
      const r = await call('POST', '/api/auth/login', { body: { username, password } });
      assert.equal(r.statusCode, 200, r.body);
      return (r.json() as { token: string }).token;
    },
  };
}

/** The error body every failure must have. */
export function assertError(r: LightMyRequestResponse, status: number, code?: string): void {
  assert.equal(r.statusCode, status, `${r.statusCode} ${r.body}`);
  const b = r.json() as { error?: { code?: unknown; message?: unknown } };
  assert.equal(typeof b.error?.code, 'string', r.body);
  assert.equal(typeof b.error?.message, 'string', r.body);
  if (code !== undefined) assert.equal(b.error?.code, code);
}

export type Role = 'viewer' | 'analyst' | 'admin';
type Tokens = Record<Role, string>;

/** A response made with fetch (multipart uploads): its status and parsed JSON body. */
export interface JsonResult {
  status: number;
  json: Record<string, unknown>;
}

/** `assertError` for a response made with fetch. */
export function assertErrorJson(r: JsonResult, status: number, code?: string): void {
  assert.equal(r.status, status, JSON.stringify(r.json));
  const e = r.json['error'] as { code?: unknown; message?: unknown } | undefined;
  assert.equal(typeof e?.code, 'string');
  assert.equal(typeof e?.message, 'string');
  if (code !== undefined) assert.equal(e?.code, code);
}

/** One route of an access table: its method and documented path, the least role, the calls. */
export interface RouteCase<X> {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  access: Role;
  /** The URL to call (default: the path). */
  url?: (x: X) => string;
  /** A call with enough rights that must fail validation (400). */
  bad?: (x: X) => Promise<LightMyRequestResponse | JsonResult>;
  /** A successful call, made last (may change data). */
  ok: (x: X) => Promise<void>;
}

/**
 * The access-table tests of a group of routes (`x` is filled in by the suite's `before`): one test
 * that `cases` lists exactly the operations of the OpenAPI document whose path passes `covers`,
 * then per route 401 without a token and with an unknown one, 403 one role below, 400 for `bad`
 * and the successful call.
 */
export function routeTableTests<X extends { c: Client; tokens: Tokens }>(
  what: string,
  x: X,
  cases: readonly RouteCase<X>[],
  covers: (path: string) => boolean,
): void {
  test(`the table covers every ${what} route of the OpenAPI document`, async () => {
    const r = await x.c.call('GET', '/api/docs', { token: x.tokens.viewer });
    const doc = r.json() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths)
      .filter(([p]) => covers(p))
      .flatMap(([p, ops]) =>
        Object.keys(ops)
          .filter((m) => m !== 'head')
          .map((m) => `${m.toUpperCase()} ${p}`),
      )
      .sort();
    assert.deepEqual(cases.map((k) => `${k.method} ${k.path}`).sort(), documented);
  });
  for (const k of cases) {
    test(`${k.method} ${k.path} (${k.access})`, async () => {
      const url = k.url?.(x) ?? k.path;
      assertError(await x.c.call(k.method, url, { body: {} }), 401, 'VIGIL_API_UNAUTHENTICATED');
      assertError(await x.c.call(k.method, url, { token: 'vgs_' + 'A'.repeat(43), body: {} }), 401);
      const below = ROLE_BELOW[k.access];
      if (below !== null)
        assertError(await x.c.call(k.method, url, { token: x.tokens[below], body: {} }), 403, 'VIGIL_API_FORBIDDEN');
      if (k.bad !== undefined) {
        const r = await k.bad(x);
        if ('statusCode' in r) assertError(r, 400, 'VIGIL_API_VALIDATION');
        else assertErrorJson(r, 400, 'VIGIL_API_VALIDATION');
      }
      await k.ok(x);
    });
  }
}

interface Case {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** As the OpenAPI document spells it. */
  path: string;
  access: 'public' | Role;
  /** A successful call (may change data; runs after the 400/401/403 checks of the case). */
  ok: (c: Client, t: Tokens, ids: Ids) => Promise<LightMyRequestResponse>;
  okStatus?: number;
  check?: (r: LightMyRequestResponse, c: Client, ids: Ids) => void | Promise<void>;
  /** A call that must fail validation (400), made with enough rights; absent when the route takes no input. */
  bad?: { url: string; body?: unknown };
  /** The URL for the 401/403 probes (default: the path with ids filled in). */
  url?: (ids: Ids) => string;
}

interface Ids {
  alerts: number[];
  userToDelete: number;
  userToPatch: number;
  apiKey: number;
}

const ROLE_BELOW: Record<Role, Role | null> = { viewer: null, analyst: 'viewer', admin: 'analyst' };

function fill(path: string, ids: Ids, key: 'alert' | 'user' | 'apiKey' = 'alert'): string {
  const id = key === 'alert' ? ids.alerts[0]! : key === 'user' ? ids.userToPatch : ids.apiKey;
  return path.replace('{id}', String(id));
}

const CASES: Case[] = [
  {
    method: 'GET',
    path: '/api/health',
    access: 'public',
    ok: (c) => c.call('GET', '/api/health'),
    check: (r) => {
      const b = r.json() as { status: string; database: { ok: boolean }; capture: { state: string; reason: string } };
      assert.equal(b.status, 'ok');
      assert.equal(b.database.ok, true);
      assert.equal(b.capture.state, 'unavailable');
      assert.match(b.capture.reason, /capture/);
    },
  },
  {
    method: 'GET',
    path: '/api/system/info',
    access: 'viewer',
    ok: (c, t) => c.call('GET', '/api/system/info', { token: t.viewer }),
    check: (r) => {
      const b = r.json() as { config: { adminPassword: string }; database: { backend: string } };
      assert.equal(b.config.adminPassword, '[redacted]');
      assert.ok(!r.body.includes(ADMIN_PASSWORD));
    },
  },
  {
    method: 'GET',
    path: '/api/docs',
    access: 'viewer',
    ok: (c, t) => c.call('GET', '/api/docs', { token: t.viewer }),
    check: (r) => assert.equal((r.json() as { openapi: string }).openapi, '3.0.3'),
  },
  {
    method: 'POST',
    path: '/api/auth/login',
    access: 'public',
    ok: (c) => c.call('POST', '/api/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } }),
    bad: { url: '/api/auth/login', body: { username: 'admin' } },
    check: (r) => {
      const b = r.json() as { token: string; user: { username: string; role: string; password_hash?: string } };
      assert.match(b.token, /^vgs_/);
      assert.equal(b.user.username, 'admin');
      assert.equal(b.user.role, 'admin');
      assert.equal(b.user.password_hash, undefined);
      const cookie = String(r.headers['set-cookie']);
      assert.match(cookie, /vigil_session=vgs_/);
      assert.match(cookie, /HttpOnly/i);
      assert.match(cookie, /SameSite=Strict/i);
    },
  },
  {
    method: 'POST',
    path: '/api/auth/logout',
    access: 'viewer',
    ok: async (c) => {
      const tok = await c.login('viewer1', 'viewer-password');
      const r = await c.call('POST', '/api/auth/logout', { token: tok });
      assertError(await c.call('GET', '/api/auth/me', { token: tok }), 401, 'VIGIL_API_UNAUTHENTICATED');
      return r;
    },
  },
  {
    method: 'GET',
    path: '/api/auth/me',
    access: 'viewer',
    ok: (c, t) => c.call('GET', '/api/auth/me', { token: t.viewer }),
    check: (r) => assert.equal((r.json() as { user: { username: string } }).user.username, 'viewer1'),
  },
  {
    method: 'POST',
    path: '/api/auth/password',
    access: 'viewer',
    bad: { url: '/api/auth/password', body: { current_password: 'x', new_password: 'short' } },
    ok: async (c, t) => {
      const r = await c.call('POST', '/api/users', {
        token: t.admin,
        body: { username: 'pwchange', password: 'old-password', role: 'viewer' },
      });
      assert.equal(r.statusCode, 201, r.body);
      const tok = await c.login('pwchange', 'old-password');
      const wrong = await c.call('POST', '/api/auth/password', {
        token: tok,
        body: { current_password: 'not-it', new_password: 'new-password' },
      });
      assertError(wrong, 400);
      const ok = await c.call('POST', '/api/auth/password', {
        token: tok,
        body: { current_password: 'old-password', new_password: 'new-password' },
      });
      await c.login('pwchange', 'new-password');
      assertError(
        await c.call('POST', '/api/auth/login', { body: { username: 'pwchange', password: 'old-password' } }),
        401,
      );
      return ok;
    },
  },
  {
    method: 'GET',
    path: '/api/auth/api-keys',
    access: 'admin',
    bad: { url: '/api/auth/api-keys?user_id=abc' },
    ok: (c, t) => c.call('GET', '/api/auth/api-keys', { token: t.admin }),
    check: (r) => assert.ok(Array.isArray((r.json() as { api_keys: unknown[] }).api_keys)),
  },
  {
    method: 'POST',
    path: '/api/auth/api-keys',
    access: 'admin',
    okStatus: 201,
    bad: { url: '/api/auth/api-keys', body: { user_id: 1 } },
    ok: (c, t) => c.call('POST', '/api/auth/api-keys', { token: t.admin, body: { name: 'ci' } }),
    check: async (r, c) => {
      const b = r.json() as { key: string; api_key: { id: number; prefix: string; kind: string } };
      assert.match(b.key, /^vgk_/);
      assert.equal(b.api_key.kind, 'api_key');
      assert.ok(b.key.startsWith(b.api_key.prefix));
      // The key authenticates as its user, and stops working once revoked.
      assert.equal((await c.call('GET', '/api/alerts', { token: b.key })).statusCode, 200);
    },
  },
  {
    method: 'DELETE',
    path: '/api/auth/api-keys/{id}',
    access: 'admin',
    bad: { url: '/api/auth/api-keys/abc' },
    url: (ids) => `/api/auth/api-keys/${ids.apiKey}`,
    ok: (c, t, ids) => c.call('DELETE', `/api/auth/api-keys/${ids.apiKey}`, { token: t.admin }),
  },
  {
    method: 'GET',
    path: '/api/users',
    access: 'admin',
    ok: (c, t) => c.call('GET', '/api/users', { token: t.admin }),
    check: (r) => {
      const users = (r.json() as { users: { username: string }[] }).users.map((u) => u.username);
      assert.ok(users.includes('admin') && users.includes('analyst1') && users.includes('viewer1'));
      assert.ok(!r.body.includes('scrypt$'));
    },
  },
  {
    method: 'POST',
    path: '/api/users',
    access: 'admin',
    okStatus: 201,
    bad: { url: '/api/users', body: { username: 'x', password: 'long-enough', role: 'root' } },
    ok: (c, t) =>
      c.call('POST', '/api/users', {
        token: t.admin,
        body: { username: 'newuser', password: 'new-user-pw', role: 'analyst' },
      }),
    check: async (r, c) => {
      assert.equal((r.json() as { user: { role: string } }).user.role, 'analyst');
      const again = await c.call('POST', '/api/users', {
        token: await c.login('admin', ADMIN_PASSWORD),
        body: { username: 'newuser', password: 'new-user-pw', role: 'analyst' },
      });
      assertError(again, 409, 'VIGIL_API_CONFLICT');
    },
  },
  {
    method: 'GET',
    path: '/api/users/{id}',
    access: 'admin',
    bad: { url: '/api/users/0' },
    url: (ids) => fill('/api/users/{id}', ids, 'user'),
    ok: (c, t, ids) => c.call('GET', fill('/api/users/{id}', ids, 'user'), { token: t.admin }),
  },
  {
    method: 'PATCH',
    path: '/api/users/{id}',
    access: 'admin',
    bad: { url: '/api/users/1', body: {} },
    url: (ids) => fill('/api/users/{id}', ids, 'user'),
    ok: (c, t, ids) =>
      c.call('PATCH', fill('/api/users/{id}', ids, 'user'), { token: t.admin, body: { role: 'analyst' } }),
    check: (r) => assert.equal((r.json() as { user: { role: string } }).user.role, 'analyst'),
  },
  {
    method: 'DELETE',
    path: '/api/users/{id}',
    access: 'admin',
    bad: { url: '/api/users/x' },
    url: (ids) => `/api/users/${ids.userToDelete}`,
    ok: (c, t, ids) => c.call('DELETE', `/api/users/${ids.userToDelete}`, { token: t.admin }),
  },
  {
    method: 'GET',
    path: '/api/activities',
    access: 'admin',
    bad: { url: '/api/activities?limit=0' },
    ok: (c, t) => c.call('GET', '/api/activities?action=auth.login', { token: t.admin }),
    check: (r) => {
      const b = r.json() as { activities: { action: string; username: string | null }[]; total: number };
      assert.ok(b.total >= 3);
      assert.ok(b.activities.every((a) => a.action === 'auth.login'));
    },
  },
  {
    method: 'GET',
    path: '/api/alerts',
    access: 'viewer',
    bad: { url: '/api/alerts?limit=1001' },
    ok: (c, t) =>
      c.call('GET', '/api/alerts?type=port_scan&severity=medium,high&source_ip=10.0.0.1', { token: t.viewer }),
    check: (r) => {
      const b = r.json() as {
        alerts: Record<string, unknown>[];
        total: number;
        total_exact: boolean;
        limit: number;
        offset: number;
      };
      assert.equal(b.limit, 100);
      assert.equal(b.offset, 0);
      assert.equal(b.total_exact, true);
      assert.equal(b.total, 2);
      for (const k of ['id', 'type', 'severity', 'detector', 'timestamp', 'source_ip', 'destination_ip'])
        assert.ok(k in b.alerts[0]!, k);
    },
  },
  {
    method: 'GET',
    path: '/api/alerts/history',
    access: 'viewer',
    bad: { url: '/api/alerts/history?bucket=week' },
    ok: (c, t) =>
      c.call('GET', '/api/alerts/history?bucket=hour&start_date=2026-11-26T00:00:00Z&end_date=2026-11-26T23:59:59Z', {
        token: t.viewer,
      }),
    check: (r) => {
      const b = r.json() as { history: { count: number }[] };
      assert.equal(b.history.length, 24);
      assert.equal(
        b.history.reduce((s, h) => s + h.count, 0),
        5,
      );
    },
  },
  {
    method: 'GET',
    path: '/api/alerts/summary',
    access: 'viewer',
    bad: { url: '/api/alerts/summary?severity=urgent' },
    ok: (c, t) => c.call('GET', '/api/alerts/summary', { token: t.viewer }),
    check: (r) => {
      const b = r.json() as { total: number; by_type: Record<string, number> };
      assert.equal(b.total, 5);
      assert.equal(b.by_type['anomaly'], 1);
    },
  },
  {
    method: 'GET',
    path: '/api/alerts/critical',
    access: 'viewer',
    bad: { url: '/api/alerts/critical?limit=0' },
    ok: (c, t) => c.call('GET', '/api/alerts/critical', { token: t.viewer }),
    check: (r) => {
      const b = r.json() as { alerts: { severity: string }[]; count: number };
      assert.equal(b.count, 2);
      assert.ok(b.alerts.every((a) => a.severity === 'critical' || a.severity === 'high'));
    },
  },
  {
    method: 'GET',
    path: '/api/alerts/{id}',
    access: 'viewer',
    bad: { url: '/api/alerts/abc' },
    ok: (c, t, ids) => c.call('GET', fill('/api/alerts/{id}', ids), { token: t.viewer }),
    check: async (r, c) => {
      assert.ok('raw' in (r.json() as object));
      const t = await c.login('viewer1', 'viewer-password');
      assertError(await c.call('GET', '/api/alerts/99999999', { token: t }), 404, 'VIGIL_API_NOT_FOUND');
    },
  },
  {
    method: 'PATCH',
    path: '/api/alerts/{id}',
    access: 'analyst',
    bad: { url: '/api/alerts/1', body: {} },
    ok: (c, t, ids) =>
      c.call('PATCH', fill('/api/alerts/{id}', ids), {
        token: t.analyst,
        body: { action: 'resolve', assignee: 'analyst1', note: 'checked' },
      }),
    check: async (r, c, ids) => {
      const a = r.json() as {
        status: string;
        resolved: boolean;
        resolved_by: string;
        assignee: string;
        notes: unknown[];
      };
      assert.equal(a.status, 'resolved');
      assert.equal(a.resolved, true);
      assert.equal(a.resolved_by, 'analyst1');
      assert.equal(a.assignee, 'analyst1');
      assert.equal(a.notes.length, 1);
      const t = await c.login('analyst1', 'analyst-password');
      const reopen = await c.call('PATCH', fill('/api/alerts/{id}', ids), { token: t, body: { resolved: false } });
      assert.equal((reopen.json() as { status: string }).status, 'open');
      const ack = await c.call('PATCH', fill('/api/alerts/{id}', ids), { token: t, body: { action: 'acknowledge' } });
      assert.equal((ack.json() as { acknowledged: boolean }).acknowledged, true);
      assertError(
        await c.call('PATCH', fill('/api/alerts/{id}', ids), {
          token: t,
          body: { action: 'resolve', resolved: false },
        }),
        400,
      );
      assertError(await c.call('PATCH', fill('/api/alerts/{id}', ids), { token: t, body: { colour: 'red' } }), 400);
    },
  },
  {
    method: 'POST',
    path: '/api/alerts/bulk-resolve',
    access: 'analyst',
    bad: { url: '/api/alerts/bulk-resolve', body: { filter: {} } },
    ok: (c, t) =>
      c.call('POST', '/api/alerts/bulk-resolve', { token: t.analyst, body: { filter: { type: 'port_scan' } } }),
    check: (r) => assert.equal((r.json() as { resolved: number }).resolved, 3),
  },
  {
    method: 'DELETE',
    path: '/api/alerts/{id}',
    access: 'admin',
    bad: { url: '/api/alerts/abc' },
    url: (ids) => `/api/alerts/${ids.alerts[1]}`,
    ok: (c, t, ids) => c.call('DELETE', `/api/alerts/${ids.alerts[1]}`, { token: t.admin }),
    check: async (_r, c, ids) => {
      const t = await c.login('admin', ADMIN_PASSWORD);
      assertError(await c.call('GET', `/api/alerts/${ids.alerts[1]}`, { token: t }), 404);
      assertError(await c.call('DELETE', `/api/alerts/${ids.alerts[1]}`, { token: t }), 404);
    },
  },
  {
    method: 'POST',
    path: '/api/alerts/bulk-delete',
    access: 'admin',
    bad: { url: '/api/alerts/bulk-delete', body: {} },
    ok: (c, t, ids) =>
      c.call('POST', '/api/alerts/bulk-delete', { token: t.admin, body: { ids: [ids.alerts[2]!, 99_999_999] } }),
    check: (r) => assert.equal((r.json() as { deleted: number }).deleted, 1),
  },
  {
    method: 'GET',
    path: '/api/stats/traffic',
    access: 'viewer',
    bad: { url: '/api/stats/traffic?minutes=0' },
    ok: (c, t) =>
      c.call('GET', '/api/stats/traffic?start_date=2026-11-26T10:00:00Z&end_date=2026-11-26T10:59:59Z', {
        token: t.viewer,
      }),
    check: (r) => {
      const b = r.json() as { points: unknown[]; totals: { packets: number } };
      assert.equal(b.points.length, 2);
      assert.equal(b.totals.packets, 300);
    },
  },
  {
    method: 'GET',
    path: '/api/stats/protocols',
    access: 'viewer',
    bad: { url: '/api/stats/protocols?start_date=yesterday' },
    ok: (c, t) => c.call('GET', '/api/stats/protocols?start_date=2026-11-26&end_date=2026-11-26', { token: t.viewer }),
    check: (r) => {
      const b = r.json() as { transport: { tcp: number; udp: number }; application: Record<string, number> };
      assert.equal(b.transport.tcp, 250);
      assert.equal(b.application['dns'], 7);
    },
  },
  {
    method: 'GET',
    path: '/api/stats/connections',
    access: 'viewer',
    bad: { url: '/api/stats/connections?minutes=-1' },
    ok: (c, t) =>
      c.call('GET', '/api/stats/connections?start_date=2026-11-26&end_date=2026-11-26', { token: t.viewer }),
    check: (r) => assert.equal((r.json() as { total_flows: number }).total_flows, 30),
  },
  {
    method: 'GET',
    path: '/api/stats/anomalies',
    access: 'viewer',
    bad: { url: '/api/stats/anomalies?limit=5000' },
    ok: (c, t) => c.call('GET', '/api/stats/anomalies', { token: t.viewer }),
    check: (r) => {
      const b = r.json() as { alerts: { type: string }[]; total: number };
      assert.equal(b.total, 1);
      assert.equal(b.alerts[0]!.type, 'anomaly');
    },
  },
  {
    method: 'GET',
    path: '/api/stats/realtime',
    access: 'viewer',
    ok: (c, t) => c.call('GET', '/api/stats/realtime', { token: t.viewer }),
    check: (r) => assert.equal((r.json() as { capture: { state: string } }).capture.state, 'unavailable'),
  },
  {
    method: 'GET',
    path: '/api/stats/debug/active-connections',
    access: 'admin',
    ok: (c, t) => c.call('GET', '/api/stats/debug/active-connections', { token: t.admin }),
    check: (r) => assert.deepEqual((r.json() as { connections: unknown[] }).connections, []),
  },
];

export function serverSuite(backend: ServerBackend): void {
  describe(`API on ${backend.name}: every route`, () => {
    let c: Client;
    let repo: Repository;
    const tokens = {} as Tokens;
    const ids: Ids = { alerts: [], userToDelete: 0, userToPatch: 0, apiKey: 0 };

    before(async () => {
      repo = await backend.newRepository();
      c = client(await buildServer({ config: testConfig(), repo, logger: false }));
      tokens.admin = await c.login('admin', ADMIN_PASSWORD);
      for (const [name, role] of [
        ['analyst1', 'analyst'],
        ['viewer1', 'viewer'],
        ['to-delete', 'viewer'],
        ['to-patch', 'viewer'],
      ] as const) {
        const r = await c.call('POST', '/api/users', {
          token: tokens.admin,
          body: { username: name, password: `${name.replace(/\d$/, '')}-password`, role },
        });
        assert.equal(r.statusCode, 201, r.body);
        const id = (r.json() as { user: { id: number } }).user.id;
        if (name === 'to-delete') ids.userToDelete = id;
        if (name === 'to-patch') ids.userToPatch = id;
      }
      tokens.analyst = await c.login('analyst1', 'analyst-password');
      tokens.viewer = await c.login('viewer1', 'viewer-password');
      const key = await c.call('POST', '/api/auth/api-keys', { token: tokens.admin, body: { name: 'to-revoke' } });
      ids.apiKey = (key.json() as { api_key: { id: number } }).api_key.id;
      const res = await repo.insertAlerts([
        alertInput({ severity: 'medium' }),
        alertInput({ severity: 'high' }),
        alertInput({ severity: 'critical', type: 'sql_injection', detector: 'signature', sourceIp: '10.9.9.9' }),
        alertInput({ severity: 'low', type: 'anomaly', detector: 'anomaly' }),
        alertInput({ severity: 'low', sourceIp: '2001:db8::1' }),
      ]);
      ids.alerts = res.map((r) => r.id);
      await repo.addTrafficStats([
        { tsUs: T0, packets: 100, bytes: 10_000, flows: 10, tcp: 80, udp: 20, protocols: { http: 3, dns: 5 } },
        { tsUs: T0 + 60 * S, packets: 200, bytes: 20_000, flows: 20, tcp: 170, udp: 30, protocols: { dns: 2 } },
      ]);
    });
    after(async () => {
      await c.app.close();
      await repo.close();
    });

    test('the table below covers every route of the OpenAPI document', async () => {
      const r = await c.call('GET', '/api/docs', { token: tokens.viewer });
      const doc = r.json() as { paths: Record<string, Record<string, unknown>> };
      const documented = Object.entries(doc.paths)
        .flatMap(([p, ops]) =>
          Object.keys(ops)
            .filter((m) => m !== 'head')
            .map((m) => `${m.toUpperCase()} ${p}`),
        )
        .sort();
      const tested = CASES.map((k) => `${k.method} ${k.path}`).sort();
      assert.deepEqual(tested, documented);
    });

    for (const k of CASES) {
      test(`${k.method} ${k.path} (${k.access})`, async () => {
        const url = k.url?.(ids) ?? fill(k.path, ids);
        const strongEnough = k.access === 'public' ? tokens.viewer : tokens[k.access];
        if (k.access !== 'public') {
          // 401 without credentials, with a malformed and with an unknown token; before validation.
          assertError(await c.call(k.method, url, { body: {} }), 401, 'VIGIL_API_UNAUTHENTICATED');
          assertError(await c.call(k.method, url, { token: 'not-a-token', body: {} }), 401);
          assertError(await c.call(k.method, url, { token: 'vgs_' + 'A'.repeat(43), body: {} }), 401);
          const below = ROLE_BELOW[k.access];
          if (below !== null)
            assertError(await c.call(k.method, url, { token: tokens[below], body: {} }), 403, 'VIGIL_API_FORBIDDEN');
        }
        if (k.bad !== undefined) {
          const r = await c.call(k.method, k.bad.url, {
            token: strongEnough,
            ...(k.bad.body !== undefined ? { body: k.bad.body } : {}),
          });
          assertError(r, 400, 'VIGIL_API_VALIDATION');
        }
        const r = await k.ok(c, tokens, ids);
        assert.equal(r.statusCode, k.okStatus ?? 200, r.body);
        await k.check?.(r, c, ids);
      });
    }

    test('the session cookie authenticates like the bearer token', async () => {
      const login = await c.call('POST', '/api/auth/login', {
        body: { username: 'viewer1', password: 'viewer-password' },
      });
      const cookie = /vigil_session=([^;]+)/.exec(String(login.headers['set-cookie']))![1]!;
      const me = await c.call('GET', '/api/auth/me', { cookie });
      assert.equal(me.statusCode, 200);
      assert.equal((me.json() as { user: { username: string } }).user.username, 'viewer1');
    });

    test('wrong credentials: 401 with the same message for unknown user and wrong password', async () => {
      const a = await c.call('POST', '/api/auth/login', { body: { username: 'admin', password: 'wrong-password' } });
      const b = await c.call('POST', '/api/auth/login', { body: { username: 'nobody', password: 'wrong-password' } });
      assertError(a, 401, 'VIGIL_API_UNAUTHENTICATED');
      assertError(b, 401, 'VIGIL_API_UNAUTHENTICATED');
      assert.equal(a.body, b.body);
    });

    test('a disabled user cannot log in and their tokens stop working', async () => {
      const r = await c.call('POST', '/api/users', {
        token: tokens.admin,
        body: { username: 'temp', password: 'temp-password', role: 'viewer' },
      });
      const id = (r.json() as { user: { id: number } }).user.id;
      const tok = await c.login('temp', 'temp-password');
      assert.equal(
        (await c.call('PATCH', `/api/users/${id}`, { token: tokens.admin, body: { disabled: true } })).statusCode,
        200,
      );
      assertError(await c.call('GET', '/api/auth/me', { token: tok }), 401);
      assertError(
        await c.call('POST', '/api/auth/login', { body: { username: 'temp', password: 'temp-password' } }),
        401,
      );
    });

    test('the last admin cannot be demoted, disabled or deleted; nobody deletes themselves', async () => {
      const admin = (await c.call('GET', '/api/auth/me', { token: tokens.admin })).json() as { user: { id: number } };
      assertError(
        await c.call('PATCH', `/api/users/${admin.user.id}`, { token: tokens.admin, body: { role: 'viewer' } }),
        409,
      );
      assertError(
        await c.call('PATCH', `/api/users/${admin.user.id}`, { token: tokens.admin, body: { disabled: true } }),
        409,
      );
      assertError(await c.call('DELETE', `/api/users/${admin.user.id}`, { token: tokens.admin }), 400);
    });

    test('a revoked API key no longer authenticates', async () => {
      const k = await c.call('POST', '/api/auth/api-keys', {
        token: tokens.admin,
        body: { name: 'short-lived', expires_in_days: 1 },
      });
      const { key, api_key } = k.json() as { key: string; api_key: { id: number } };
      assert.equal((await c.call('GET', '/api/system/info', { token: key })).statusCode, 200);
      assert.equal(
        (await c.call('DELETE', `/api/auth/api-keys/${api_key.id}`, { token: tokens.admin })).statusCode,
        200,
      );
      assertError(await c.call('GET', '/api/system/info', { token: key }), 401);
    });

    test('alert list filters, paging, sorting and bad values', async () => {
      const all = (
        await c.call('GET', '/api/alerts?sort=severity&order=asc&limit=2', { token: tokens.viewer })
      ).json() as {
        alerts: { severity: string }[];
        total: number;
      };
      assert.equal(all.alerts.length, 2);
      assert.equal(all.alerts[0]!.severity, 'low');
      const v6 = (await c.call('GET', '/api/alerts?source_ip=2001:db8::1', { token: tokens.viewer })).json() as {
        total: number;
      };
      assert.equal(v6.total, 1);
      // Left after the route cases: alerts 0 and 4 (behavior) and 3 (anomaly).
      const det = (await c.call('GET', '/api/alerts?detector=anomaly,behavior', { token: tokens.viewer })).json() as {
        total: number;
      };
      assert.equal(det.total, 3);
      for (const bad of [
        '/api/alerts?source_ip=10.0.0.300',
        '/api/alerts?severity=severe',
        '/api/alerts?resolved=maybe',
        '/api/alerts?start_date=2026-13-45',
        '/api/alerts?start_date=2026-11-27&end_date=2026-11-26',
        '/api/alerts?sort=message',
        '/api/alerts?offset=-1',
        '/api/alerts?limit=abc',
      ])
        assertError(await c.call('GET', bad, { token: tokens.viewer }), 400, 'VIGIL_API_VALIDATION');
    });

    test('unknown routes and bad JSON answer with the error body', async () => {
      assertError(await c.call('GET', '/api/nope', { token: tokens.viewer }), 404, 'VIGIL_API_NOT_FOUND');
      const r = await c.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        headers: { 'content-type': 'application/json' },
        payload: '{"username": ',
      });
      assertError(r, 400);
      // A JSON content type with an empty body is no body (common for DELETE), not a 400.
      const d = await c.app.inject({
        method: 'DELETE',
        url: '/api/alerts/99999999',
        headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
      });
      assertError(d, 404, 'VIGIL_API_NOT_FOUND');
      // Prototype poisoning in a body is refused.
      const p = await c.app.inject({
        method: 'POST',
        url: '/api/alerts/bulk-resolve',
        headers: { authorization: `Bearer ${tokens.analyst}`, 'content-type': 'application/json' },
        payload: '{"__proto__": {"admin": true}, "ids": [1]}',
      });
      assertError(p, 400);
    });

    test('changes are recorded in user_activities', async () => {
      const acts = (await c.call('GET', '/api/activities?limit=1000', { token: tokens.admin })).json() as {
        activities: { action: string; username: string | null; ip: string | null }[];
      };
      const actions = new Set(acts.activities.map((a) => a.action));
      for (const a of [
        'user.create',
        'user.update',
        'user.delete',
        'auth.login',
        'auth.login_failed',
        'auth.logout',
        'user.password_change',
        'api_key.create',
        'api_key.revoke',
        'alert.update',
        'alert.delete',
        'alert.bulk_delete',
        'alert.bulk_resolve',
      ])
        assert.ok(actions.has(a), `no ${a} in the audit log`);
      const upd = acts.activities.find((a) => a.action === 'alert.update')!;
      assert.equal(upd.username, 'analyst1');
      assert.ok(upd.ip !== null);
    });

    test('security headers and CORS limited to the configured origins', async () => {
      const ok = await c.app.inject({
        method: 'GET',
        url: '/api/health',
        headers: { origin: 'http://localhost:3000' },
      });
      assert.equal(ok.headers['access-control-allow-origin'], 'http://localhost:3000');
      assert.equal(ok.headers['x-content-type-options'], 'nosniff');
      assert.ok(ok.headers['content-security-policy'] !== undefined);
      const evil = await c.app.inject({
        method: 'GET',
        url: '/api/health',
        headers: { origin: 'http://evil.example' },
      });
      assert.equal(evil.headers['access-control-allow-origin'], undefined);
      const pre = await c.app.inject({
        method: 'OPTIONS',
        url: '/api/alerts',
        headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'GET' },
      });
      assert.equal(pre.statusCode, 204);
    });
  });

  describe(`API on ${backend.name}: alert filters and session cleanup`, () => {
    test('GET /api/alerts: analysis_id and the other filters, paging and sorting', async () => {
      const repo = await backend.newRepository();
      try {
        const a = await repo.createPcapAnalysis({ filename: 'a.pcap' });
        const b = await repo.createPcapAnalysis({ filename: 'b.pcap' });
        const M = 60 * S;
        const rows = [
          { type: 'port_scan', severity: 'low', sourceIp: '10.0.0.1', analysisId: null },
          { type: 'xss', severity: 'medium', sourceIp: '10.0.0.2', analysisId: null },
          { type: 'sql_injection', severity: 'high', sourceIp: '10.0.0.1', analysisId: null },
          { type: 'dos', severity: 'critical', sourceIp: '10.0.0.3', analysisId: null },
          { type: 'port_scan', severity: 'high', sourceIp: '10.0.0.4', analysisId: a.id },
          { type: 'xss', severity: 'low', sourceIp: '10.0.0.4', analysisId: a.id },
          { type: 'dos', severity: 'critical', sourceIp: '10.0.0.5', analysisId: a.id },
          { type: 'port_scan', severity: 'medium', sourceIp: '10.0.0.1', analysisId: b.id },
        ] as const;
        const res = await repo.insertAlerts(rows.map((r, i) => alertInput({ ...r, tsUs: T0 + i * M })));
        const ids = res.map((r) => r.id);
        await repo.resolveAlerts({ ids: [ids[1]!, ids[6]!] });
        const all = rows.map((r, i) => ({ ...r, i, id: ids[i]!, resolved: i === 1 || i === 6 }));
        const c = client(await buildServer({ config: testConfig(), repo, logger: false }));
        try {
          const token = await c.login('admin', ADMIN_PASSWORD);
          const get = async (q: string) => {
            const r = await c.call('GET', `/api/alerts?${q}`, { token });
            assert.equal(r.statusCode, 200, `${q}: ${r.body}`);
            return r.json() as { alerts: { id: number; type: string; severity: string }[]; total: number };
          };
          /** The list (newest first by default) equals the rows `pred` selects. */
          const check = async (q: string, pred: (x: (typeof all)[number]) => boolean) => {
            const want = all
              .filter(pred)
              .sort((x, y) => y.i - x.i)
              .map((x) => x.id);
            const page = await get(q);
            assert.deepEqual(
              page.alerts.map((x) => x.id),
              want,
              q,
            );
            assert.equal(page.total, want.length, q);
          };
          await check(`analysis_id=${a.id}`, (x) => x.analysisId === a.id);
          await check(`analysis_id=${b.id}`, (x) => x.analysisId === b.id);
          await check(
            `analysis_id=${a.id}&severity=critical,low`,
            (x) => x.analysisId === a.id && x.severity !== 'high',
          );
          await check(`analysis_id=${a.id}&resolved=false`, (x) => x.analysisId === a.id && !x.resolved);
          await check('analysis_id=no-such-analysis', () => false);
          await check('type=port_scan', (x) => x.type === 'port_scan');
          await check('type=xss,dos', (x) => x.type === 'xss' || x.type === 'dos');
          await check('severity=high', (x) => x.severity === 'high');
          await check('resolved=true', (x) => x.resolved);
          await check('resolved=false&type=port_scan', (x) => !x.resolved && x.type === 'port_scan');
          await check('source_ip=10.0.0.1', (x) => x.sourceIp === '10.0.0.1');
          await check('start_date=2026-11-26T10:02:00Z&end_date=2026-11-26T10:05:00Z', (x) => x.i >= 2 && x.i <= 5);
          await check('start_date=2026-11-26T10:06:00Z', (x) => x.i >= 6);
          await check('end_date=2026-11-26T10:00:00Z', (x) => x.i === 0);
          await check('start_date=2026-11-27', () => false);

          // Paging tiles the list; sorting by time, severity and type.
          const asc = await get('sort=timestamp&order=asc&limit=3&offset=3');
          assert.deepEqual(
            asc.alerts.map((x) => x.id),
            ids.slice(3, 6),
          );
          assert.equal(asc.total, 8);
          const pages = [];
          for (let off = 0; off < 8; off += 3)
            pages.push(...(await get(`limit=3&offset=${off}`)).alerts.map((x) => x.id));
          assert.deepEqual(pages, [...ids].reverse());
          const rank: Record<string, number> = { low: 1, medium: 2, high: 3, critical: 4 };
          const bySev = (await get('sort=severity&order=desc')).alerts.map((x) => rank[x.severity]!);
          assert.deepEqual(
            bySev,
            [...bySev].sort((x, y) => y - x),
          );
          const byType = (await get('sort=type&order=asc')).alerts.map((x) => x.type);
          assert.deepEqual(byType, [...byType].sort());

          // The filter reaches the summary and the bulk operations too.
          const sum = (await c.call('GET', `/api/alerts/summary?analysis_id=${a.id}`, { token })).json() as {
            total: number;
          };
          assert.equal(sum.total, 3, JSON.stringify(sum));
          const bulk = await c.call('POST', '/api/alerts/bulk-resolve', {
            token,
            body: { filter: { analysis_id: b.id } },
          });
          assert.equal(bulk.statusCode, 200, bulk.body);
          await check('resolved=true', (x) => x.resolved || x.analysisId === b.id);

          for (const bad of [
            'analysis_id=a%20b',
            'analysis_id=',
            `analysis_id=${'x'.repeat(65)}`,
            'analysis_id=..%2Fx',
          ])
            assertError(await c.call('GET', `/api/alerts?${bad}`, { token }), 400, 'VIGIL_API_VALIDATION');
        } finally {
          await c.app.close();
        }
      } finally {
        await repo.close();
      }
    });

    test('expired sessions are deleted when the server starts; API keys and live sessions stay', async () => {
      const repo = await backend.newRepository();
      try {
        const u = await repo.createUser({ username: 'sam', passwordHash: 'not-a-hash', role: 'viewer' });
        const now = Date.now() * 1000;
        const mk = (name: string, kind: 'session' | 'api_key', expiresUs: number) =>
          repo.createApiToken({ userId: u.id, kind, name, tokenHash: `hash-${name}`, prefix: name, expiresUs });
        await mk('expired', 'session', now - S);
        const live = await mk('live', 'session', now + 3600 * S);
        const key = await mk('old-key', 'api_key', now - S);
        const c = client(await buildServer({ config: testConfig(), repo, logger: false }));
        try {
          assert.deepEqual(
            (await repo.listApiTokens(u.id)).map((t) => t.id),
            [live.id, key.id],
          );
        } finally {
          await c.app.close();
        }
      } finally {
        await repo.close();
      }
    });
  });

  describe(`API on ${backend.name}: a fresh store`, () => {
    test('every GET route answers 200 with an empty result', async () => {
      const repo = await backend.newRepository();
      const c = client(await buildServer({ config: testConfig(), repo, logger: false }));
      try {
        const token = await c.login('admin', ADMIN_PASSWORD);
        const doc = (await c.call('GET', '/api/docs', { token })).json() as {
          paths: Record<string, Record<string, unknown>>;
        };
        const gets = Object.entries(doc.paths)
          .filter(([p, ops]) => 'get' in ops && !p.includes('{'))
          .map(([p]) => p);
        assert.ok(gets.length >= 15, String(gets.length));
        for (const p of gets) {
          const r = await c.call('GET', p, { token });
          assert.equal(r.statusCode, 200, `${p}: ${r.body}`);
        }
        const page = (await c.call('GET', '/api/alerts', { token })).json() as { alerts: unknown[]; total: number };
        assert.deepEqual(page.alerts, []);
        assert.equal(page.total, 0);
      } finally {
        await c.app.close();
        await repo.close();
      }
    });
  });
}
