/**
 * Live capture wired into `vigil serve` (src/server/live.ts): the sensor's alerts reach the store
 * through the BatchWriter and Socket.IO as `new_alert`; its counters become per-minute traffic rows
 * and traffic_update; /api/health shows the state, kernel drops, and why capture is off when it
 * is. The capture session is a fake driven by the test (the real tcpdump path is covered by
 * live-capture.test.ts), except where the point is a real failure (a missing capture tool).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { io as ioClient } from 'socket.io-client';
import { LINKTYPE } from '../../src/capture/batch.js';
import type { SessionHandlers, SessionOpener } from '../../src/capture/live.js';
import { buildServer } from '../../src/server/app.js';
import type { ServerConfig } from '../../src/server/config.js';
import { serveExtensions } from '../../src/server/extensions.js';
import type { ServeExtensionOptions, ServeExtensions } from '../../src/server/extensions.js';
import { framesFromFields, injectionBatch } from '../../src/server/inject.js';
import { trafficDelta } from '../../src/server/live.js';
import { openRepository } from '../../src/store/open.js';
import type { Repository } from '../../src/store/repository.js';
import { tempDir } from '../helpers/paths.js';
import { ADMIN_PASSWORD, alertInput, client, testConfig } from './server-suite.js';
import { SQLI_REQUEST, nextEvent } from './server-realtime-suite.js';

const dir = tempDir('vigil-serve-live-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

interface Health {
  capture: {
    enabled: boolean;
    state: string;
    interface: string;
    reason: string | null;
    code: string | null;
    stats?: Record<string, number>;
  };
}

async function serve(
  capture: ServerConfig['capture'],
  o: ServeExtensionOptions,
): Promise<{ app: FastifyInstance; repo: Repository; ext: ServeExtensions; base: string }> {
  const d = path.join(dir, `s${++n}`);
  const repo = await openRepository({ backend: 'sqlite', file: path.join(d, 'vigil.db'), dedupWindowS: 300 });
  const cfg = testConfig({ dataDir: d, capture });
  const ext = serveExtensions(cfg, { env: {}, ...o });
  const app = await buildServer({
    config: cfg,
    repo,
    logger: false,
    extensions: ext.extensions,
    captureStatus: ext.captureStatus,
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, repo, ext, base };
}

/** Bounded poll of /api/health until `pred` holds (state changes come from a child process). */
async function healthUntil(app: FastifyInstance, pred: (h: Health) => boolean): Promise<Health> {
  let h: Health | null = null;
  for (let i = 0; i < 500; i++) {
    h = (await app.inject({ method: 'GET', url: '/api/health' })).json() as Health;
    if (pred(h)) return h;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`health never matched: ${JSON.stringify(h)}`);
}

test('captured packets (worker thread): alerts stored and broadcast, traffic rows, kernel drops in health', () =>
  capturedPackets(false));
test('captured packets (inline): the same with the sensor on the main thread', () => capturedPackets(true));

async function capturedPackets(inline: boolean): Promise<void> {
  const sessions: { h: SessionHandlers; stopped: boolean }[] = [];
  let onOpen: () => void = () => undefined;
  // In a worker the session opens once the worker has loaded its engine; inline, at once.
  const opened = new Promise<void>((r) => (onOpen = r));
  const opener: SessionOpener = (_p, h) => {
    const s = { h, stopped: false };
    sessions.push(s);
    onOpen();
    return {
      requestCounters: () => undefined,
      stop: () => {
        s.stopped = true;
        h.onExit(null);
      },
    };
  };
  const { app, repo, ext, base } = await serve(
    { enabled: true, interface: 'eth-test' },
    { settings: { broadcastIntervalS: 0.1 }, live: { opener, inline, statsIntervalMs: 0, trafficFlushMs: 3_600_000 } },
  );
  try {
    await opened;
    assert.equal(sessions.length, 1, 'capture starts with the server');
    const h = sessions[0]!.h;
    h.onListening({ linkType: 'EN10MB' });
    const c = client(app);
    const token = await c.login('admin', ADMIN_PASSWORD);
    const s = ioClient(base, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('connected', () => resolve());
        s.once('connect_error', reject);
      });
      const alert = nextEvent<{ type: string; source: string; id: number }>(
        s,
        'new_alert',
        (a) => a.type === 'sql_injection',
      );
      const traffic = nextEvent<{ packets: number; capture: { state: string } }>(
        s,
        'traffic_update',
        (u) => u.packets === 10,
      );
      // One HTTP session with an SQL injection and its answer, as the capture would deliver it
      // (the request's transaction is inspected once the response starts; else at flow end).
      const frames = framesFromFields({
        src_ip: '203.0.113.50',
        dst_ip: '10.3.3.3',
        protocol: 'tcp',
        payload: SQLI_REQUEST,
        response: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      });
      assert.equal(frames.length, 10);
      const batch = injectionBatch({ frames, linkType: LINKTYPE.ETHERNET, midstream: false }, Date.now() * 1000);
      h.onBatch(batch);
      h.onCounters({ received: 120, dropped: 3, ifdropped: 1 });

      const a = await alert;
      assert.equal(a.source, 'live');
      const stored = await repo.getAlert(a.id);
      assert.equal(stored?.type, 'sql_injection');
      assert.equal(stored?.analysis_id, null);
      const u = await traffic;
      assert.equal(u.capture.state, 'running');

      const health = (await c.call('GET', '/api/health')).json() as Health;
      assert.equal(health.capture.state, 'running');
      assert.equal(health.capture.interface, 'eth-test');
      assert.equal(health.capture.reason, null);
      assert.equal(health.capture.stats?.['kernel_dropped'], 3);
      assert.equal(health.capture.stats?.['kernel_ifdropped'], 1);
      assert.equal(health.capture.stats?.['packets'], 10);

      await ext.live.flush();
      const t = (await c.call('GET', '/api/stats/traffic?minutes=5', { token })).json() as {
        totals: { packets: number; dropped: number; tcp: number };
      };
      assert.equal(t.totals.packets, 10);
      assert.equal(t.totals.dropped, 4);
      const p = (await c.call('GET', '/api/stats/protocols', { token })).json() as {
        transport: { tcp: number };
        application: Record<string, number>;
      };
      assert.equal(p.transport.tcp, 10);
      assert.equal(p.application['http'], 1);
      // A second flush adds only what is new (nothing).
      await ext.live.flush();
      const t2 = (await c.call('GET', '/api/stats/traffic?minutes=5', { token })).json() as {
        totals: { packets: number };
      };
      assert.equal(t2.totals.packets, 10);
    } finally {
      s.disconnect();
    }
  } finally {
    await app.close();
    await repo.close();
  }
  assert.equal(sessions[0]!.stopped, true, 'shutdown stops the capture');
}

test('capture enabled but the capture tool is missing: the server runs and health says why', async () => {
  const { app, repo } = await serve(
    { enabled: true, interface: 'lo' },
    { env: { CAPTURE_TCPDUMP: '/nonexistent/vigil-tcpdump' }, live: { statsIntervalMs: 0 } },
  );
  try {
    const h = await healthUntil(app, (x) => x.capture.state === 'unavailable');
    assert.equal(h.capture.enabled, true);
    assert.equal(h.capture.code, 'libpcap_unavailable');
    assert.match(h.capture.reason ?? '', /not found/);
    const c = client(app);
    const token = await c.login('admin', ADMIN_PASSWORD);
    assert.equal((await c.call('GET', '/api/alerts', { token })).statusCode, 200);
  } finally {
    await app.close();
    await repo.close();
  }
});

test('a bad CAPTURE_* value: the server runs, health names the variable', async () => {
  const { app, repo } = await serve(
    { enabled: true, interface: 'lo' },
    { env: { CAPTURE_SNAPLEN: 'lots' }, live: { statsIntervalMs: 0 } },
  );
  try {
    const h = (await app.inject({ method: 'GET', url: '/api/health' })).json() as Health;
    assert.equal(h.capture.state, 'unavailable');
    assert.match(h.capture.reason ?? '', /CAPTURE_SNAPLEN/);
  } finally {
    await app.close();
    await repo.close();
  }
});

test('new_alert is capped per second; the rest is counted in traffic_update', async () => {
  const { app, repo, ext, base } = await serve(
    { enabled: false, interface: 'any' },
    { settings: { maxAlertsPerSecond: 2, broadcastIntervalS: 0.1 }, live: { probe: false } },
  );
  try {
    const token = await client(app).login('admin', ADMIN_PASSWORD);
    const s = ioClient(base, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('connected', () => resolve());
        s.once('connect_error', reject);
      });
      const got: number[] = [];
      s.on('new_alert', (a: { id: number }) => got.push(a.id));
      const counted = nextEvent<{ alerts_not_broadcast: number }>(
        s,
        'traffic_update',
        (u) => u.alerts_not_broadcast === 3,
      );
      const inputs = [1, 2, 3, 4, 5].map((i) => alertInput({ sourceIp: `10.9.0.${i}` }));
      ext.hub.publishInserted(inputs, await repo.insertAlerts(inputs), 'test');
      await counted;
      // Emitted before the traffic_update that counted the rest, so already delivered.
      assert.equal(got.length, 2);
    } finally {
      s.disconnect();
    }
  } finally {
    await app.close();
    await repo.close();
  }
});

test('trafficDelta: differences of cumulative counters; nothing new is no row', () => {
  const a = { packets: 10, bytes: 1000, flows: 2, alerts: 1, dropped: 0, protocols: { tcp: 8, udp: 2 } };
  const b = { packets: 25, bytes: 2500, flows: 3, alerts: 1, dropped: 2, protocols: { tcp: 18, udp: 4, icmp: 3 } };
  assert.deepEqual(trafficDelta(a, b, 5, 's'), {
    tsUs: 5,
    sensor: 's',
    packets: 15,
    bytes: 1500,
    flows: 1,
    alerts: 0,
    dropped: 2,
    tcp: 10,
    udp: 2,
    icmp: 3,
    other: 0,
  });
  assert.equal(trafficDelta(b, b, 6, 's'), null);
});
