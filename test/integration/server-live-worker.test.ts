/**
 * The live sensor in a worker thread inside `vigil serve` (src/pipeline/live-thread.ts,
 * src/pipeline/live-worker.ts): the API answers while the worker is busy with traffic, alerts
 * reach the store and Socket.IO, flows still open at shutdown are finished and their alerts
 * stored before the store closes, a crashed worker is reported and restarted, a model change
 * or rule reload reconfigures the running sensor. Capture sessions are fakes driven from this thread and relayed
 * to the worker, except the last test (real tcpdump on lo, skipped where capture is not
 * permitted). The worker entry is test/helpers/live-worker-hooks.ts: the real one plus a gate
 * that holds the engine mid-batch and an injected crash. Waits on events only.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { io as ioClient } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { LINKTYPE } from '../../src/capture/batch.js';
import type { PacketBatch } from '../../src/capture/batch.js';
import { probeCapture } from '../../src/capture/live.js';
import type { SessionHandlers, SessionOpener } from '../../src/capture/live.js';
import { defaultConfig } from '../../src/pipeline/config.js';
import type { EngineConfig } from '../../src/pipeline/config.js';
import type { LiveSensorThread } from '../../src/pipeline/live-thread.js';
import { buildServer } from '../../src/server/app.js';
import type { ServerConfig } from '../../src/server/config.js';
import { serveExtensions } from '../../src/server/extensions.js';
import type { ServeExtensionOptions, ServeExtensions } from '../../src/server/extensions.js';
import { framesFromFields, injectionBatch } from '../../src/server/inject.js';
import { openRepository } from '../../src/store/open.js';
import type { Repository } from '../../src/store/repository.js';
import { tempDir } from '../helpers/paths.js';
import { ADMIN_PASSWORD, client, testConfig } from './server-suite.js';
import { SQLI_REQUEST, nextEvent } from './server-realtime-suite.js';

const dir = tempDir('vigil-serve-live-worker-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const HOOKS = new URL('../helpers/live-worker-hooks.js', import.meta.url);
const GUARD_MS = 30_000;
type WaitAsync = (
  a: Int32Array,
  i: number,
  v: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };

interface Health {
  capture: { state: string; reason: string | null; code: string | null; stats?: Record<string, number> };
}

interface Served {
  app: FastifyInstance;
  repo: Repository;
  ext: ServeExtensions;
  base: string;
}

async function serve(capture: ServerConfig['capture'], o: ServeExtensionOptions): Promise<Served> {
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

/** Fake capture sessions, opened by the worker through the relay; `session(i)` waits for the i-th. */
function fakeCapture(): { opener: SessionOpener; session(i: number): Promise<SessionHandlers>; stopped: boolean[] } {
  const handlers: SessionHandlers[] = [];
  const stopped: boolean[] = [];
  let waiters: { i: number; resolve: (h: SessionHandlers) => void }[] = [];
  const opener: SessionOpener = (_p, h) => {
    const k = handlers.length;
    handlers.push(h);
    stopped.push(false);
    waiters = waiters.filter((w) => (w.i === k ? (w.resolve(h), false) : true));
    return {
      requestCounters: () => undefined,
      stop: () => {
        stopped[k] = true;
        h.onExit(null);
      },
    };
  };
  return {
    opener,
    stopped,
    session: (i) =>
      handlers[i] !== undefined ? Promise.resolve(handlers[i]) : new Promise((resolve) => waiters.push({ i, resolve })),
  };
}

/** Frames as the capture would deliver them, in one batch. */
function batchOf(frames: Buffer[]): PacketBatch {
  return injectionBatch({ frames, linkType: LINKTYPE.ETHERNET, midstream: false }, Date.now() * 1000);
}

/** An HTTP session with an SQL injection (and an answer: the request is inspected when it starts). */
function sqliSession(srcIp: string): Buffer[] {
  return framesFromFields({
    src_ip: srcIp,
    dst_ip: '10.3.3.3',
    protocol: 'tcp',
    payload: SQLI_REQUEST,
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  });
}

/**
 * The same request left open: handshake, request, its ACK; no answer and no FIN. The request is
 * inspected only when the flow ends — at shutdown or when the engine is replaced.
 */
function openSqliFlow(srcIp: string): Buffer[] {
  return framesFromFields({ src_ip: srcIp, dst_ip: '10.3.3.3', protocol: 'tcp', payload: SQLI_REQUEST }).slice(0, 5);
}

function thread(ext: ServeExtensions): LiveSensorThread {
  const s = ext.live.sensor();
  assert.ok(s !== null && 'waitFor' in s, 'the sensor runs in a worker thread');
  return s as LiveSensorThread;
}

/** Resolve with `p`, or fail after GUARD_MS (a guard against hanging, not a synchronisation). */
function guard<T>(what: string, p: Promise<T>): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), GUARD_MS);
    }),
  ]).finally(() => clearTimeout(t));
}

async function connect(base: string, token: string): Promise<Socket> {
  const s = ioClient(base, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
  await new Promise<void>((resolve, reject) => {
    s.once('connected', () => resolve());
    s.once('connect_error', reject);
  });
  return s;
}

async function sqlAlerts(repo: Repository): Promise<number> {
  return (await repo.listAlerts({ type: 'sql_injection' })).alerts.length;
}

test('the API answers while the worker is held in the middle of a batch; the alert follows', async () => {
  const fake = fakeCapture();
  const { app, repo, ext, base } = await serve(
    { enabled: true, interface: 'eth-test' },
    { live: { opener: fake.opener, workerUrl: HOOKS, statsIntervalMs: 0, trafficFlushMs: 3_600_000 } },
  );
  const c = client(app);
  const token = await c.login('admin', ADMIN_PASSWORD);
  const s = await connect(base, token);
  try {
    const h = await guard('the capture session', fake.session(0));
    const sensor = thread(ext);
    h.onListening({ linkType: 'EN10MB' });
    await guard(
      'running',
      sensor.waitFor((st) => st.capture.state === 'running'),
    );
    // Close the gate, then deliver traffic: the worker enters the engine and stays there.
    const sab = new SharedArrayBuffer(8);
    const g = new Int32Array(sab);
    sensor.worker!.postMessage({ kind: 'test-gate', sab });
    const alert = nextEvent<{ type: string; source: string; id: number }>(
      s,
      'new_alert',
      (a) => a.type === 'sql_injection',
    );
    const frames = sqliSession('203.0.113.61');
    h.onBatch(batchOf(frames));
    // Atomics.waitAsync is in Node 16+, not yet in TypeScript's ES2023 lib.
    const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
    const entered = waitAsync(g, 1, 0);
    if (entered.async) await guard('the worker to enter the engine', entered.value);

    // The worker is mid-batch: the API still answers, from this thread, with the last snapshot.
    const health = (await c.call('GET', '/api/health')).json() as Health;
    assert.equal(health.capture.state, 'running');
    assert.equal(health.capture.stats?.['packets'], 0, 'the held batch has not been reported yet');
    assert.equal((await c.call('GET', '/api/alerts', { token })).statusCode, 200);
    assert.equal((await c.call('GET', '/api/stats/traffic?minutes=5', { token })).statusCode, 200);

    // Released: the batch goes through, its alert is stored and broadcast.
    Atomics.store(g, 0, 1);
    Atomics.notify(g, 0);
    const a = await alert;
    assert.equal(a.source, 'live');
    assert.equal((await repo.getAlert(a.id))?.type, 'sql_injection');
    const st = await guard(
      'the counters',
      sensor.waitFor((x) => x.engine.packets === frames.length),
    );
    assert.equal(st.capture.packets, frames.length);
    const after = (await c.call('GET', '/api/health')).json() as Health;
    assert.equal(after.capture.stats?.['packets'], frames.length);
    assert.equal(after.capture.stats?.['worker_crashes'], 0);
  } finally {
    s.disconnect();
    await app.close();
    await repo.close();
  }
  assert.equal(fake.stopped[0], true, 'shutdown stops the capture');
});

test('shutdown finishes the flows still open and stores their alerts before the store closes', async () => {
  const fake = fakeCapture();
  const { app, repo, ext } = await serve(
    { enabled: true, interface: 'eth-test' },
    { live: { opener: fake.opener, statsIntervalMs: 0, trafficFlushMs: 3_600_000 } },
  );
  let closed = false;
  try {
    const h = await guard('the capture session', fake.session(0));
    h.onListening({ linkType: 'EN10MB' });
    const frames = openSqliFlow('203.0.113.62');
    h.onBatch(batchOf(frames));
    const sensor = thread(ext);
    const st = await guard(
      'the packets',
      sensor.waitFor((x) => x.engine.packets === frames.length),
    );
    assert.equal(st.engine.flows_active, 1);
    await ext.live.flush();
    assert.equal(await sqlAlerts(repo), 0, 'nothing raised while the flow is open');
    await app.close();
    closed = true;
    assert.equal(fake.stopped[0], true);
    const page = await repo.listAlerts({});
    const sql = page.alerts.filter((a) => a.type === 'sql_injection');
    assert.equal(sql.length, 1, 'the alert of the flow ended at shutdown was stored');
    assert.equal(sql[0]!.source_ip, '203.0.113.62');
    assert.equal(ext.live.status().stats?.['alerts_written'], 1);
    // The last counters were written too.
    const t = await repo.trafficTotals({});
    assert.equal(t.packets, frames.length);
  } finally {
    if (!closed) await app.close();
    await repo.close();
  }
});

test('a crashed worker: health says restarting and why, the API answers, a new worker captures', async () => {
  const fake = fakeCapture();
  const { app, repo, ext } = await serve(
    { enabled: true, interface: 'eth-test' },
    {
      env: { SNIFFER_RETRY_DELAY: '0.05', SNIFFER_RETRY_MAX: '3' },
      live: { opener: fake.opener, workerUrl: HOOKS, statsIntervalMs: 0, trafficFlushMs: 3_600_000 },
    },
  );
  try {
    const h = await guard('the capture session', fake.session(0));
    h.onListening({ linkType: 'EN10MB' });
    const sensor = thread(ext);
    await guard(
      'running',
      sensor.waitFor((st) => st.capture.state === 'running'),
    );
    h.onBatch(batchOf(sqliSession('203.0.113.63')));
    await guard(
      'the first alert',
      sensor.waitFor((st) => st.engine.alerts >= 1),
    );

    sensor.worker!.postMessage({ kind: 'test-crash' });
    const down = await guard(
      'the crash',
      sensor.waitFor((st) => st.capture.state === 'restarting'),
    );
    assert.match(down.capture.message ?? '', /sensor worker exited \(injected worker crash\)/);
    assert.equal(fake.stopped[0], true, 'the relayed session of the dead worker was ended');
    const health = (await app.inject({ method: 'GET', url: '/api/health' })).json() as Health;
    assert.ok(['restarting', 'starting', 'running'].includes(health.capture.state), health.capture.state);

    // The replacement opens a new session and captures again; counters stay cumulative.
    const h2 = await guard('the second session', fake.session(1));
    h2.onListening({ linkType: 'EN10MB' });
    await guard(
      'running again',
      sensor.waitFor((st) => st.capture.state === 'running'),
    );
    h2.onBatch(batchOf(sqliSession('203.0.113.64')));
    const st = await guard(
      'the second alert',
      sensor.waitFor((x) => x.engine.alerts >= 2),
    );
    assert.equal(st.capture.restarts, 1);
    assert.equal(sensor.crashes, 1);
    await ext.live.flush();
    assert.equal(await sqlAlerts(repo), 2);
    const hh = (await app.inject({ method: 'GET', url: '/api/health' })).json() as Health;
    assert.equal(hh.capture.state, 'running');
    assert.equal(hh.capture.stats?.['worker_crashes'], 1);
    assert.equal(hh.capture.stats?.['packets'], 20);
  } finally {
    await app.close();
    await repo.close();
  }
});

test('an engine configuration that does not load: unavailable with the reason, the API runs', async () => {
  const fake = fakeCapture();
  const bad = (): EngineConfig => {
    const cfg = defaultConfig();
    cfg.detect.ruleFiles = [path.join(dir, 'no-such.rules')];
    return cfg;
  };
  const { app, repo, ext } = await serve(
    { enabled: true, interface: 'eth-test' },
    { live: { opener: fake.opener, engineConfig: bad, statsIntervalMs: 0 } },
  );
  try {
    const st = await guard(
      'the failure',
      thread(ext).waitFor((s) => s.capture.state === 'unavailable'),
    );
    assert.equal(st.capture.reason, 'invalid_config');
    const h = (await app.inject({ method: 'GET', url: '/api/health' })).json() as Health;
    assert.equal(h.capture.code, 'invalid_config');
    assert.match(h.capture.reason ?? '', /engine configuration does not load: .*no-such\.rules/);
    assert.equal(thread(ext).crashes, 0, 'not a crash: no restart');
  } finally {
    await app.close();
    await repo.close();
  }
});

test('a model change or rule reload is taken in place; other changes replace the engine and end open flows', async () => {
  const fake = fakeCapture();
  let configs = 0;
  const engineConfig = (): EngineConfig => {
    configs++;
    const c = defaultConfig();
    // From the third read on, a change beyond rules and models (a flow timeout).
    if (configs >= 3) c.flow.timeouts.tcp.established += 1;
    return c;
  };
  const { app, repo, ext } = await serve(
    { enabled: true, interface: 'eth-test' },
    { live: { opener: fake.opener, engineConfig, statsIntervalMs: 0, trafficFlushMs: 3_600_000 } },
  );
  try {
    const h = await guard('the capture session', fake.session(0));
    h.onListening({ linkType: 'EN10MB' });
    const frames = openSqliFlow('203.0.113.65');
    h.onBatch(batchOf(frames));
    const sensor = thread(ext);
    await guard(
      'the packets',
      sensor.waitFor((x) => x.engine.packets === frames.length),
    );
    assert.equal(configs, 1);
    // Same configuration but for rules/models: swapped inside the engine, the open flow carries on.
    ext.models.changed();
    await guard('the reconfiguration', ext.live.reconfigured());
    assert.equal(configs, 2, 'the new configuration was read');
    await ext.live.flush();
    assert.equal(await sqlAlerts(repo), 0, 'the open flow was not ended');
    assert.equal(sensor.stats().engine.flows_active, 1);
    // Anything else: a new engine; the replaced engine's open flow ends and its alert is stored.
    ext.rules.reload();
    await guard('the second reconfiguration', ext.live.reconfigured());
    assert.equal(configs, 3);
    await ext.live.flush();
    assert.equal(await sqlAlerts(repo), 1, "the replaced engine's open flow was finished");
    const st = sensor.stats();
    assert.equal(st.capture.state, 'running', 'capture went on');
    assert.equal(st.capture.restarts, 0);
    assert.equal(st.engine.packets, frames.length, 'counters stay cumulative');
    assert.equal(st.engine.flows_active, 0);
    assert.equal(fake.stopped[0], false);
  } finally {
    await app.close();
    await repo.close();
  }
});

test('the first live flows train the anomaly baseline; live flows are kept as unlabeled samples', async () => {
  const fake = fakeCapture();
  const N = 120;
  const { app, repo, ext } = await serve(
    { enabled: true, interface: 'eth-test' },
    {
      env: {
        ANOMALY_BASELINE_FLOWS: String(N),
        LIVE_TRAINING_SAMPLES_PER_HOUR: '50',
        LIVE_SAMPLE_RATE: '1',
        // The shipped model in the shadow too: it agrees with itself on every flow.
        ML_SHADOW_MODEL_PATH: 'default',
      },
      live: { opener: fake.opener, statsIntervalMs: 0, trafficFlushMs: 3_600_000 },
    },
  );
  try {
    assert.equal(ext.models.active('anomaly').source, 'none');
    const h = await guard('the capture session', fake.session(0));
    h.onListening({ linkType: 'EN10MB' });
    // N + 10 complete HTTP sessions from distinct clients, then packets 5 minutes later: the
    // flow table's timeouts (packet time) end the closed sessions.
    const frames: Buffer[] = [];
    for (let i = 0; i < N + 10; i++)
      frames.push(
        ...framesFromFields({
          src_ip: `198.51.100.${1 + (i % 200)}`,
          dst_ip: '10.3.3.3',
          protocol: 'tcp',
          src_port: 20000 + i,
          payload: `GET /page/${i} HTTP/1.1\r\nHost: intranet\r\n\r\n`,
          response: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
        }),
      );
    // In capture-sized batches (at most BATCH_PACKETS frames each).
    for (let k = 0; k < frames.length; k += 500) h.onBatch(batchOf(frames.slice(k, k + 500)));
    const late = batchOf(
      framesFromFields({ src_ip: '198.51.100.250', dst_ip: '10.3.3.3', protocol: 'udp', payload: 'x' }).slice(0, 1),
    );
    late.tsUs[0] = late.tsUs[0]! + 300e6;
    h.onBatch(late);
    // Flows that timed out in a batch are handed on at the start of the next one.
    const later = batchOf(
      framesFromFields({ src_ip: '198.51.100.251', dst_ip: '10.3.3.3', protocol: 'udp', payload: 'x' }).slice(0, 1),
    );
    later.tsUs[0] = later.tsUs[0]! + 301e6;
    h.onBatch(later);
    const sensor = thread(ext);
    await guard(
      'the flows',
      sensor.waitFor((x) => x.engine.flows_total >= N + 10 && x.engine.flows_active <= 2),
    );
    // The baseline job was submitted from the first N flows; it trains, is saved and activated.
    const job = await guard('the baseline job', ext.learning.whenBaseline());
    const submitted = job.job_id;
    const done = await guard('the baseline training', ext.training.queue()!.wait(submitted)!);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.equal(done.model_type, 'isolation_forest');
    assert.equal(done.samples, N);
    assert.equal(done.activated, true);
    const a = ext.models.active('anomaly');
    assert.equal(a.source, 'store');
    assert.equal(a.version, done.version);
    // The model info shows the live sensor's figures, shadow model beside the active one.
    const c = client(app);
    const token = await c.login('admin', ADMIN_PASSWORD);
    const mi = (await c.call('GET', '/api/analyze/model-info', { token })).json() as {
      live: { flows_scored: number; shadow: { flows_scored: number; agreement: number } | null };
    };
    assert.ok(mi.live.flows_scored >= N, JSON.stringify(mi.live));
    assert.equal(mi.live.shadow?.flows_scored, mi.live.flows_scored);
    assert.equal(mi.live.shadow?.agreement, 1);
    // Live samples: unlabeled, source live, at most LIVE_TRAINING_SAMPLES_PER_HOUR this hour.
    await ext.learning.flush();
    const live = await repo.listSamples({ source: 'live', limit: 100 });
    assert.equal(live.total, 50);
    assert.ok(live.samples.every((x) => x.label === null && x.metadata?.['dst_ip'] === '10.3.3.3'));
  } finally {
    await app.close();
    await repo.close();
  }
});

const probe = await probeCapture({ interface: 'lo' });
const skip = probe.available ? false : `live capture unavailable here: ${probe.reason} (${probe.message})`;

test('real capture on lo in the worker: an SQL injection over HTTP is stored and broadcast', { skip }, async () => {
  const web = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const port = (web.address() as AddressInfo).port;
  const { app, repo, ext, base } = await serve(
    { enabled: true, interface: 'lo' },
    { env: { CAPTURE_FILTER: `tcp port ${port}`, CAPTURE_IMMEDIATE: 'true' }, live: { statsIntervalMs: 0 } },
  );
  const token = await client(app).login('admin', ADMIN_PASSWORD);
  const s = await connect(base, token);
  try {
    await guard(
      'capture to start',
      thread(ext).waitFor((st) => st.capture.state === 'running'),
    );
    const alert = nextEvent<{ type: string; source: string; id: number }>(
      s,
      'new_alert',
      (a) => a.type === 'sql_injection',
    );
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get(
          {
            host: '127.0.0.1',
            port,
            path: '/item?id=1%20UNION%20SELECT%20username,password%20FROM%20users--',
            agent: false,
          },
          (res) => {
            let d = '';
            res.on('data', (chunk: Buffer) => (d += chunk.toString()));
            res.on('end', () => resolve(d));
          },
        )
        .on('error', reject);
    });
    assert.equal(body, 'ok');
    const a = await alert;
    assert.equal(a.source, 'live');
    const stored = await repo.getAlert(a.id);
    assert.equal(stored?.type, 'sql_injection');
    assert.equal(stored?.destination_port, port);
  } finally {
    s.disconnect();
    await app.close();
    await repo.close();
    await new Promise<void>((r) => web.close(() => r()));
  }
});
