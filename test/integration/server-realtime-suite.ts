/**
 * The `vigil serve` extensions on every backend (server-realtime-sqlite.test.ts,
 * server-realtime-postgres.test.ts): PCAP routes, test routes, Socket.IO, on a server listening on
 * 127.0.0.1:0 with a real store. As server-suite.ts does for the core routes, every route of these
 * extensions in the OpenAPI document has a case here (success, 400, 401, 403 where it applies).
 *
 * Acceptance (issue 7): uploading corpus/port_scan.pcap yields a completed analysis with port_scan
 * alerts; a Socket.IO client receives `new_alert` after `/api/test/inject-packet` with an SQL
 * injection packet. Waits are on events (the job queue, socket events), never sleeps.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { io as ioClient } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { buildServer } from '../../src/server/app.js';
import { serveExtensions } from '../../src/server/extensions.js';
import type { ServeExtensions } from '../../src/server/extensions.js';
import type { Repository } from '../../src/store/repository.js';
import { SHARED_DIR, tempDir } from '../helpers/paths.js';
import type { Client, Role, RouteCase, ServerBackend } from './server-suite.js';
import { ADMIN_PASSWORD, assertError, assertErrorJson, client, routeTableTests, testConfig } from './server-suite.js';

export const PORT_SCAN = path.join(SHARED_DIR, 'corpus', 'port_scan.pcap');

/** An HTTP request with an SQL injection in its URI (the built-in rules flag it). */
export const SQLI_REQUEST =
  "GET /products.php?id=1'%20UNION%20SELECT%20username,password%20FROM%20users-- HTTP/1.1\r\n" +
  'Host: shop.example\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n';

type Tokens = Record<Role, string>;

/** Upload over real HTTP (multipart, streamed by the server to disk). */
async function upload(
  base: string,
  token: string | null,
  body: Buffer,
  opts: { field?: string; filename?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const form = new FormData();
  form.append(opts.field ?? 'file', new Blob([body]), opts.filename ?? 'capture.pcap');
  const r = await fetch(`${base}/api/pcap/analyze`, {
    method: 'POST',
    body: form,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

/** Resolves with the first `event` whose payload passes `pred`; rejects after `ms` (a bound, not a wait). */
export function nextEvent<T>(
  socket: Socket,
  event: string,
  pred: (p: T) => boolean = () => true,
  ms = 20_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    const on = (p: T): void => {
      if (!pred(p)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(p);
    };
    socket.on(event, on);
  });
}

function connect(base: string, opts: Parameters<typeof ioClient>[1]): Socket {
  return ioClient(base, { transports: ['websocket'], reconnection: false, forceNew: true, ...opts });
}

/** Connects, or rejects with the connect_error message. */
function connected(s: Socket): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    s.once('connected', (p: Record<string, unknown>) => resolve(p));
    s.once('connect_error', (e: Error) => reject(e));
  });
}

interface Ctx {
  c: Client;
  base: string;
  tokens: Tokens;
  ext: ServeExtensions;
  /** Analyses created by the cases (uploaded port_scan). */
  analysisId: string;
  toDelete: string;
}

type Case = RouteCase<Ctx>;

const CASES: Case[] = [
  {
    method: 'POST',
    path: '/api/pcap/analyze',
    access: 'analyst',
    bad: (x) => upload(x.base, x.tokens.analyst, Buffer.from('not a capture'), { field: 'capture' }),
    ok: async (x) => {
      // The acceptance test proper: see 'uploading port_scan.pcap ...' below; here the 202 shape.
      const r = await upload(x.base, x.tokens.analyst, fs.readFileSync(PORT_SCAN), { filename: 'scan.pcap' });
      assert.equal(r.status, 202, JSON.stringify(r.json));
      assert.equal(typeof r.json['analysis_id'], 'string');
      assert.ok(['queued', 'running'].includes(r.json['status'] as string));
      x.toDelete = r.json['analysis_id'] as string;
    },
  },
  {
    method: 'GET',
    path: '/api/pcap/analyses',
    access: 'viewer',
    bad: (x) => x.c.call('GET', '/api/pcap/analyses?status=done', { token: x.tokens.viewer }),
    ok: async (x) => {
      const r = await x.c.call('GET', '/api/pcap/analyses?limit=10', { token: x.tokens.viewer });
      assert.equal(r.statusCode, 200, r.body);
      const b = r.json() as { analyses: { analysis_id: string; status: string }[]; total: number; limit: number };
      assert.ok(b.total >= 1);
      assert.equal(b.limit, 10);
      assert.ok(b.analyses.some((a) => a.analysis_id === x.analysisId));
      const done = (
        await x.c.call('GET', '/api/pcap/analyses?status=completed', { token: x.tokens.viewer })
      ).json() as { analyses: { status: string }[] };
      assert.ok(done.analyses.every((a) => a.status === 'completed'));
    },
  },
  {
    method: 'GET',
    path: '/api/pcap/analyses/{id}',
    access: 'viewer',
    url: (x) => `/api/pcap/analyses/${x.analysisId}`,
    bad: (x) => x.c.call('GET', '/api/pcap/analyses/not..an..id', { token: x.tokens.viewer }),
    ok: async (x) => {
      const r = await x.c.call('GET', `/api/pcap/analyses/${x.analysisId}?alerts_limit=5`, {
        token: x.tokens.viewer,
      });
      assert.equal(r.statusCode, 200, r.body);
      const b = r.json() as { status: string; alerts: unknown[]; alerts_total: number; top_talkers: unknown[] };
      assert.equal(b.status, 'completed');
      assert.ok(b.alerts.length <= 5 && b.alerts.length > 0);
      assert.ok(b.alerts_total >= b.alerts.length);
      assert.ok(Array.isArray(b.top_talkers));
      assertError(
        await x.c.call('GET', '/api/pcap/analyses/00000000-0000-0000-0000-000000000000', { token: x.tokens.viewer }),
        404,
        'VIGIL_API_NOT_FOUND',
      );
    },
  },
  {
    method: 'DELETE',
    path: '/api/pcap/analyses/{id}',
    access: 'admin',
    url: (x) => `/api/pcap/analyses/${x.toDelete}`,
    bad: (x) => x.c.call('DELETE', '/api/pcap/analyses/bad%20id', { token: x.tokens.admin }),
    ok: async (x) => {
      // Deleting an analysis that may still be running: it is cancelled first, then removed with its alerts.
      const r = await x.c.call('DELETE', `/api/pcap/analyses/${x.toDelete}`, { token: x.tokens.admin });
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json(), { deleted: true, id: x.toDelete });
      assertError(await x.c.call('GET', `/api/pcap/analyses/${x.toDelete}`, { token: x.tokens.admin }), 404);
      const left = (await x.c.call('GET', `/api/alerts?limit=1000`, { token: x.tokens.admin })).json() as {
        alerts: { analysis_id: string | null }[];
      };
      assert.ok(left.alerts.every((a) => a.analysis_id !== x.toDelete));
      assertError(await x.c.call('DELETE', `/api/pcap/analyses/${x.toDelete}`, { token: x.tokens.admin }), 404);
    },
  },
  {
    method: 'GET',
    path: '/api/pcap/last',
    access: 'viewer',
    bad: (x) => x.c.call('GET', '/api/pcap/last?status=whatever', { token: x.tokens.viewer }),
    ok: async (x) => {
      const r = await x.c.call('GET', '/api/pcap/last', { token: x.tokens.viewer });
      assert.equal(r.statusCode, 200, r.body);
      const b = r.json() as { analysis: { status: string; summary: { packets: number } } | null };
      assert.equal(b.analysis?.status, 'completed');
      assert.ok(b.analysis.summary.packets > 0);
    },
  },
  {
    method: 'GET',
    path: '/api/pcap/stats',
    access: 'viewer',
    ok: async (x) => {
      const r = await x.c.call('GET', '/api/pcap/stats', { token: x.tokens.viewer });
      assert.equal(r.statusCode, 200, r.body);
      const b = r.json() as {
        counts: Record<string, number>;
        recent: { packets: number; alerts_by_type: Record<string, number> };
        limits: { max_upload_bytes: number };
      };
      assert.ok(b.counts['completed']! >= 1);
      assert.ok(b.recent.packets > 0);
      assert.ok((b.recent.alerts_by_type['port_scan'] ?? 0) > 0);
      assert.equal(b.limits.max_upload_bytes, 200 * 1024 * 1024);
    },
  },
  {
    method: 'POST',
    path: '/api/test/trigger-alert',
    access: 'admin',
    bad: (x) =>
      x.c.call('POST', '/api/test/trigger-alert', { token: x.tokens.admin, body: { severity: 'apocalyptic' } }),
    ok: async (x) => {
      const r = await x.c.call('POST', '/api/test/trigger-alert', {
        token: x.tokens.admin,
        body: { type: 'brute_force', severity: 'high', source_ip: '198.51.100.7' },
      });
      assert.equal(r.statusCode, 201, r.body);
      const a = (r.json() as { alert: { id: number; type: string; severity: string } }).alert;
      assert.equal(a.type, 'brute_force');
      const stored = await x.c.call('GET', `/api/alerts/${a.id}`, { token: x.tokens.viewer });
      assert.equal((stored.json() as { source_ip: string }).source_ip, '198.51.100.7');
      // No body at all: the defaults.
      assert.equal((await x.c.call('POST', '/api/test/trigger-alert', { token: x.tokens.admin })).statusCode, 201);
      assertError(
        await x.c.call('POST', '/api/test/trigger-alert', { token: x.tokens.admin, body: { source_ip: '1.2.3' } }),
        400,
      );
    },
  },
  {
    method: 'POST',
    path: '/api/test/inject-packet',
    access: 'admin',
    bad: (x) => x.c.call('POST', '/api/test/inject-packet', { token: x.tokens.admin, body: { packet: 'abc' } }),
    ok: async (x) => {
      const r = await x.c.call('POST', '/api/test/inject-packet', {
        token: x.tokens.admin,
        body: { fields: { src_ip: '203.0.113.9', dst_ip: '10.1.1.1', protocol: 'tcp', payload: SQLI_REQUEST } },
      });
      assert.equal(r.statusCode, 200, r.body);
      const b = r.json() as { packets: number; alerts: { type: string; id: number }[] };
      assert.equal(b.packets, 8);
      assert.ok(b.alerts.some((a) => a.type === 'sql_injection' && a.id > 0));
    },
  },
];

export function realtimeSuite(backend: ServerBackend): void {
  const skip = fs.existsSync(PORT_SCAN) ? false : `${PORT_SCAN} missing (set VIGIL_SHARED_DIR)`;
  describe(`serve extensions on ${backend.name}`, { skip }, () => {
    let repo: Repository;
    let app: FastifyInstance;
    let dir: string;
    const x = { tokens: {} as Tokens, analysisId: '', toDelete: '' } as Ctx;

    before(async () => {
      dir = tempDir('vigil-serve-ext-');
      repo = await backend.newRepository();
      const cfg = testConfig({ dataDir: dir });
      x.ext = serveExtensions(cfg, {
        env: {},
        settings: { testRoutes: true, broadcastIntervalS: 0.2, maxAlertsPerSecond: 100_000 },
        live: { probe: false },
        pcap: { queueOptions: { progressIntervalMs: 20 } },
        revalidateMs: 100,
      });
      app = await buildServer({
        config: cfg,
        repo,
        logger: false,
        extensions: x.ext.extensions,
        captureStatus: x.ext.captureStatus,
      });
      const addr = await app.listen({ host: '127.0.0.1', port: 0 });
      x.base = addr;
      x.c = client(app);
      x.tokens.admin = await x.c.login('admin', ADMIN_PASSWORD);
      for (const [name, role] of [
        ['analyst1', 'analyst'],
        ['viewer1', 'viewer'],
      ] as const) {
        const r = await x.c.call('POST', '/api/users', {
          token: x.tokens.admin,
          body: { username: name, password: `${role}-password`, role },
        });
        assert.equal(r.statusCode, 201, r.body);
        x.tokens[role] = await x.c.login(name, `${role}-password`);
      }
    });
    after(async () => {
      await app.close();
      await repo.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('on a fresh store the PCAP GET routes answer 200 and empty', async () => {
      const list = await x.c.call('GET', '/api/pcap/analyses', { token: x.tokens.viewer });
      assert.equal(list.statusCode, 200);
      assert.deepEqual((list.json() as { analyses: unknown[]; total: number }).total, 0);
      const last = await x.c.call('GET', '/api/pcap/last', { token: x.tokens.viewer });
      assert.deepEqual(last.json(), { analysis: null });
      const stats = await x.c.call('GET', '/api/pcap/stats', { token: x.tokens.viewer });
      assert.equal(stats.statusCode, 200);
      assert.equal((stats.json() as { total: number }).total, 0);
    });

    test('uploading port_scan.pcap yields a completed analysis with port_scan alerts; pcap_progress is relayed', async () => {
      const s = connect(x.base, { auth: { token: x.tokens.viewer } });
      try {
        await connected(s);
        const progress: { analysis_id: string; status: string; percent: number }[] = [];
        s.on('pcap_progress', (p: { analysis_id: string; status: string; percent: number }) => progress.push(p));
        const pcapAlerts: { type: string; analysis_id: string | null; source: string }[] = [];
        s.on('new_alert', (a: { type: string; analysis_id: string | null; source: string }) => {
          if (a.source === 'pcap') pcapAlerts.push(a);
        });
        const r = await upload(x.base, x.tokens.analyst, fs.readFileSync(PORT_SCAN), { filename: 'port_scan.pcap' });
        assert.equal(r.status, 202, JSON.stringify(r.json));
        const id = r.json['analysis_id'] as string;
        x.analysisId = id;
        const finished = nextEvent<{ analysis_id: string; status: string }>(
          s,
          'pcap_progress',
          (p) => p.analysis_id === id && (p.status === 'completed' || p.status === 'failed'),
          120_000,
        );
        // The job's own completion (event-driven), then the API's view of it.
        const done = await x.ext.pcap.queue()!.wait(id);
        assert.equal(done?.status, 'completed', done?.error ?? '');
        await finished;
        const d = await x.c.call('GET', `/api/pcap/analyses/${id}?alerts_limit=1000`, { token: x.tokens.viewer });
        assert.equal(d.statusCode, 200, d.body);
        const b = d.json() as {
          status: string;
          filename: string;
          summary: { packets: number; alerts_by_type: Record<string, number>; protocols: Record<string, number> };
          alerts: { type: string; analysis_id: string }[];
          protocol_distribution: Record<string, number>;
        };
        assert.equal(b.status, 'completed');
        assert.equal(b.filename, 'port_scan.pcap');
        assert.equal(b.summary.packets, 4573);
        assert.ok((b.summary.alerts_by_type['port_scan'] ?? 0) > 0, JSON.stringify(b.summary.alerts_by_type));
        assert.ok((b.protocol_distribution['tcp'] ?? 0) > 0);
        assert.ok(b.alerts.some((a) => a.type === 'port_scan' && a.analysis_id === id));
        assert.ok(progress.some((p) => p.analysis_id === id && p.status === 'running'));
        assert.equal(progress.at(-1)?.percent, 100);
        // The job's alerts went out as new_alert too (the store wrote them before the job ended).
        assert.ok(pcapAlerts.some((a) => a.type === 'port_scan' && a.analysis_id === id));
        // The upload's temporary file is gone once the job ended.
        assert.deepEqual(fs.readdirSync(path.join(dir, 'uploads')), []);
      } finally {
        s.disconnect();
      }
    });

    test('uploads: not a capture 415, JSON 415, wrong field 400, no credentials 401', async () => {
      assertErrorJson(
        await upload(x.base, x.tokens.analyst, Buffer.from('hello, not a pcap')),
        415,
        'VIGIL_API_UNSUPPORTED_MEDIA_TYPE',
      );
      const json = await x.c.call('POST', '/api/pcap/analyze', { token: x.tokens.analyst, body: { file: 'x' } });
      assertError(json, 415, 'VIGIL_API_UNSUPPORTED_MEDIA_TYPE');
      assertErrorJson(await upload(x.base, x.tokens.analyst, Buffer.alloc(24), { field: 'pcap' }), 400);
      assertErrorJson(await upload(x.base, null, fs.readFileSync(PORT_SCAN)), 401);
      assert.deepEqual(fs.readdirSync(path.join(dir, 'uploads')), []);
    });

    routeTableTests('PCAP and test', x, CASES, (p) => p.startsWith('/api/pcap') || p.startsWith('/api/test'));

    test('Socket.IO: handshake needs a valid token or the session cookie', async () => {
      for (const auth of [{}, { token: 'nope' }, { token: 'vgs_' + 'B'.repeat(43) }]) {
        const s = connect(x.base, { auth });
        try {
          await assert.rejects(connected(s), /unauthorized/);
        } finally {
          s.disconnect();
        }
      }
      const login = await x.c.call('POST', '/api/auth/login', {
        body: { username: 'viewer1', password: 'viewer-password' },
      });
      const cookie = /vigil_session=([^;]+)/.exec(String(login.headers['set-cookie']))![1]!;
      const s = connect(x.base, { extraHeaders: { cookie: `vigil_session=${cookie}` } });
      try {
        const hello = await connected(s);
        assert.equal((hello['user'] as { username: string }).username, 'viewer1');
      } finally {
        s.disconnect();
      }
    });

    test('Socket.IO: logging out ends an open socket (its token is checked again)', async () => {
      const tok = await x.c.login('viewer1', 'viewer-password');
      const s = connect(x.base, { auth: { token: tok } });
      try {
        await connected(s);
        const ended = nextEvent<{ code: string }>(s, 'session_ended');
        const gone = nextEvent<string>(s, 'disconnect');
        assert.equal((await x.c.call('POST', '/api/auth/logout', { token: tok })).statusCode, 200);
        assert.equal((await ended).code, 'VIGIL_API_UNAUTHENTICATED');
        assert.equal(await gone, 'io server disconnect');
      } finally {
        s.disconnect();
      }
    });

    test('Socket.IO: rooms, traffic_update, and new_alert after inject-packet with an SQL injection', async () => {
      const s = connect(x.base, { auth: { token: x.tokens.viewer } });
      try {
        const hello = await connected(s);
        assert.equal((hello['user'] as { role: string }).role, 'viewer');
        const joined = nextEvent<{ room: string }>(s, 'joined_room');
        s.emit('join_room', { room: 'dashboard' });
        assert.deepEqual(await joined, { room: 'dashboard' });
        const bad = nextEvent<{ error: { code: string } }>(s, 'joined_room');
        s.emit('join_room', { room: '../../etc' });
        assert.equal((await bad).error.code, 'VIGIL_API_VALIDATION');
        const left = nextEvent<{ room: string }>(s, 'left_room');
        s.emit('leave_room', 'dashboard');
        assert.deepEqual(await left, { room: 'dashboard' });

        const traffic = await nextEvent<{ capture: { state: string }; alerts_total: number; clients: number }>(
          s,
          'traffic_update',
        );
        assert.equal(traffic.capture.state, 'unavailable');
        assert.ok(traffic.clients >= 1);

        const alert = nextEvent<{ type: string; id: number; source_ip: string; source: string }>(
          s,
          'new_alert',
          (a) => a.type === 'sql_injection' && a.source_ip === '203.0.113.77',
        );
        // A raw Ethernet frame (hex): the lone data segment of an HTTP request (midstream pick-up).
        const frame = ethernetTcpFrame('203.0.113.77', '10.2.2.2', 51000, 80, Buffer.from(SQLI_REQUEST));
        const r = await x.c.call('POST', '/api/test/inject-packet', {
          token: x.tokens.admin,
          body: { packet: frame.toString('hex') },
        });
        assert.equal(r.statusCode, 200, r.body);
        const a = await alert;
        assert.equal(a.source, 'test');
        const stored = await x.c.call('GET', `/api/alerts/${a.id}`, { token: x.tokens.viewer });
        assert.equal((stored.json() as { type: string }).type, 'sql_injection');
      } finally {
        s.disconnect();
      }
    });

    test('health reports capture off and why', async () => {
      const h = (await x.c.call('GET', '/api/health')).json() as {
        capture: { enabled: boolean; state: string; reason: string; code: string };
      };
      assert.equal(h.capture.enabled, false);
      assert.equal(h.capture.code, 'disabled');
      assert.match(h.capture.reason, /CAPTURE_ENABLED=true/);
    });

    test('an upload over the size limit is refused with 413 and leaves nothing behind', async () => {
      const small = tempDir('vigil-serve-413-');
      const cfg = testConfig({ dataDir: small });
      cfg.pcap = { ...cfg.pcap, maxUploadBytes: 64 * 1024 };
      const ext = serveExtensions(cfg, { env: {}, settings: { testRoutes: false }, live: { probe: false } });
      const app2 = await buildServer({ config: cfg, repo, logger: false, extensions: ext.extensions });
      try {
        const base = await app2.listen({ host: '127.0.0.1', port: 0 });
        const r = await upload(base, x.tokens.analyst, fs.readFileSync(PORT_SCAN));
        assertErrorJson(r, 413, 'VIGIL_API_PAYLOAD_TOO_LARGE');
        assert.deepEqual(fs.readdirSync(path.join(small, 'uploads')), []);
        // Test routes are off unless enabled.
        assertError(await client(app2).call('POST', '/api/test/trigger-alert', { token: x.tokens.admin }), 404);
      } finally {
        await app2.close();
        fs.rmSync(small, { recursive: true, force: true });
      }
    });
  });
}

/** An Ethernet/IPv4/TCP PSH-ACK frame carrying `payload` (checksums left zero: validation is off). */
export function ethernetTcpFrame(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(14 + 20 + 20 + payload.length);
  b.writeUInt16BE(0x0800, 12); // EtherType IPv4
  b[14] = 0x45; // version 4, IHL 5
  b.writeUInt16BE(40 + payload.length, 16); // total length
  b[22] = 64; // TTL
  b[23] = 6; // TCP
  Buffer.from(src.split('.').map(Number)).copy(b, 26);
  Buffer.from(dst.split('.').map(Number)).copy(b, 30);
  b.writeUInt16BE(sport, 34);
  b.writeUInt16BE(dport, 36);
  b.writeUInt32BE(1000, 38); // seq
  b.writeUInt32BE(1, 42); // ack
  b[46] = 5 << 4; // data offset
  b[47] = 0x18; // PSH ACK
  b.writeUInt16BE(65535, 48); // window
  payload.copy(b, 54);
  return b;
}
