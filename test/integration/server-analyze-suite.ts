/**
 * The `/api/analyze` routes on every backend (server-analyze-sqlite.test.ts,
 * server-analyze-postgres.test.ts), wired as `vigil serve` wires them (serveExtensions). Every
 * analyze route of the OpenAPI document has a case: success, 400, 401, 403 where it applies.
 *
 * Behaviour (issue 7): an SQL-injection HTTP request gives an sql_injection alert and is not
 * stored; a TCP connection sent in bulk forms one flow whose feature vector counts its packets;
 * /api/analyze/flow gives the class the model gives when it scores the vector directly;
 * model-info names the shipped default model on a fresh data directory; no model -> 200 with
 * `classifier: null` and the reason; an anomaly model and a store-activated model are reported.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import type { ServerConfig } from '../../src/server/config.js';
import { serveExtensions } from '../../src/server/extensions.js';
import { framesFromFields } from '../../src/server/inject.js';
import { MAX_BULK_PACKETS } from '../../src/server/analyze.js';
import { DEFAULT_MODEL_DIR } from '../../src/detect/classify/setup.js';
import { loadScoringModel } from '../../src/detect/classify/load.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../../src/detect/classify/model.js';
import type { ModelFile } from '../../src/detect/classify/model.js';
import { FEATURE_NAMES } from '../../src/flow/features.js';
import { trainIsolationForest } from '../../src/ml/isolation-forest.js';
import type { Repository } from '../../src/store/repository.js';
import { tempDir } from '../helpers/paths.js';
import type { Client, Role, RouteCase, ServerBackend } from './server-suite.js';
import { ADMIN_PASSWORD, assertError, client, routeTableTests, testConfig } from './server-suite.js';

/** An HTTP request with an SQL injection in its URI (the built-in rules flag it). */
const SQLI_REQUEST =
  "GET /products.php?id=1'%20UNION%20SELECT%20username,password%20FROM%20users-- HTTP/1.1\r\n" +
  'Host: shop.example\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n';
const HTTP_RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok';

type Tokens = Record<Role, string>;

interface Flow {
  flow_id: number;
  src_ip: string;
  dst_port: number;
  protocol: string;
  app_proto: string | null;
  packets_to_server: number;
  packets_to_client: number;
  bytes_to_server: number;
  bytes_to_client: number;
  alerts: number;
  features: Record<string, number | null>;
  classifier: {
    predicted_class: string;
    confidence: number;
    probabilities: Record<string, number>;
    would_alert: boolean;
    top_features: { feature: string; weight: number }[];
  } | null;
  anomaly: { score: number; threshold: number; would_alert: boolean; top_features: unknown[] } | null;
}

interface Alert {
  type: string;
  detector: string;
  stored: boolean;
  source_ip: string;
}

interface Ctx {
  c: Client;
  tokens: Tokens;
}

type Case = RouteCase<Ctx>;

/** One TCP connection as raw Ethernet frames, client 198.51.100.20 -> server 10.3.3.3:80. */
function connectionFrames(): Buffer[] {
  return framesFromFields({
    src_ip: '198.51.100.20',
    dst_ip: '10.3.3.3',
    protocol: 'tcp',
    src_port: 50123,
    dst_port: 80,
    payload: 'GET /index.html HTTP/1.1\r\nHost: intranet\r\n\r\n',
    response: HTTP_RESPONSE,
  });
}

/** IPv4 source address of an Ethernet frame. */
const srcOf = (f: Buffer): string => [...f.subarray(26, 30)].join('.');

/** The class the shipped model gives a full vector (FEATURE_NAMES order), scored directly. */
function directClass(features: Record<string, number | null>): string {
  const lm = loadScoringModel(DEFAULT_MODEL_DIR, { liveFeatures: true });
  const row = Float64Array.from(lm.file.features, (f) => features[f] ?? NaN);
  const out = new Float64Array(lm.file.classes.length);
  lm.model.predictProba!(row, 1, out);
  let best = 0;
  for (let j = 1; j < out.length; j++) if (out[j]! > out[best]!) best = j;
  return lm.file.classes[best]!;
}

const CASES: Case[] = [
  {
    method: 'POST',
    path: '/api/analyze',
    access: 'analyst',
    bad: (x) => x.c.call('POST', '/api/analyze', { token: x.tokens.analyst, body: { packet: 'abc' } }),
    ok: async (x) => {
      const r = await x.c.call('POST', '/api/analyze', {
        token: x.tokens.analyst,
        body: { fields: { src_ip: '203.0.113.9', dst_ip: '10.1.1.1', protocol: 'tcp', payload: SQLI_REQUEST } },
      });
      assert.equal(r.statusCode, 200, r.body);
      const b = r.json() as {
        stored: boolean;
        frames: number;
        packets: { src_ip: string; dst_port: number; protocol: string; layers: string[]; payload_length: number }[];
        alerts: Alert[];
        flow: Flow;
        flows: Flow[];
        models: { classifier: { name: string; source: string } | null };
      };
      assert.equal(b.stored, false);
      // The fields become a whole session: handshake, data, ACK, FIN exchange.
      assert.equal(b.frames, 8);
      assert.equal(b.packets.length, 8);
      const data = b.packets[3]!;
      assert.deepEqual([data.src_ip, data.dst_port, data.protocol], ['203.0.113.9', 80, 'TCP']);
      assert.deepEqual(data.layers, ['ethernet', 'ipv4', 'tcp']);
      assert.equal(data.payload_length, Buffer.byteLength(SQLI_REQUEST));
      const sqli = b.alerts.filter((a) => a.type === 'sql_injection');
      assert.ok(sqli.length > 0, JSON.stringify(b.alerts));
      assert.ok(sqli.every((a) => a.stored === false && a.source_ip === '203.0.113.9'));
      assert.equal(b.flows.length, 1);
      assert.equal(b.flow.app_proto, 'http');
      assert.ok(b.flow.alerts >= 1);
      assert.equal(b.flow.features['Total Fwd Packet'], b.flow.packets_to_server);
      assert.equal(Object.keys(b.flow.features).length, FEATURE_NAMES.length);
      // The shipped classifier is active on a fresh data directory and gives a verdict.
      assert.deepEqual(b.models.classifier, { name: 'default', source: 'config', type: 'random_forest' });
      const cls = b.flow.classifier!;
      const sum = Object.values(cls.probabilities).reduce((s, p) => s + p, 0);
      assert.ok(Math.abs(sum - 1) < 1e-3, String(sum));
      assert.equal(cls.predicted_class, directClass(b.flow.features));
      assert.ok(cls.top_features.length > 0);
      // Analysis only: nothing was stored.
      const stored = await x.c.call('GET', '/api/alerts', { token: x.tokens.viewer });
      assert.equal((stored.json() as { total: number }).total, 0);

      // A raw frame in hex: the lone data segment of the request (midstream), decoded and inspected.
      const [frame] = framesFromFields({
        src_ip: '203.0.113.10',
        dst_ip: '10.1.1.2',
        protocol: 'tcp',
        src_port: 41000,
        payload: SQLI_REQUEST,
        session: false,
      });
      const raw = await x.c.call('POST', '/api/analyze', {
        token: x.tokens.analyst,
        body: { packet: frame!.toString('hex') },
      });
      assert.equal(raw.statusCode, 200, raw.body);
      const rb = raw.json() as { packets: { src_port: number; tcp_flags: string[] }[]; alerts: Alert[] };
      assert.equal(rb.packets.length, 1);
      assert.equal(rb.packets[0]!.src_port, 41000);
      assert.deepEqual(rb.packets[0]!.tcp_flags, ['PSH', 'ACK']);
      assert.ok(rb.alerts.some((a) => a.type === 'sql_injection'));
      // A truncated frame: decoded as far as it goes, its decoder event reported, no error.
      const cut = await x.c.call('POST', '/api/analyze', {
        token: x.tokens.analyst,
        body: { packet: frame!.subarray(0, 30).toString('base64'), encoding: 'base64', link: 'ethernet' },
      });
      assert.equal(cut.statusCode, 200, cut.body);
      const cb = cut.json() as { packets: { decoder_events: Record<string, number>; layers: string[] }[] };
      assert.ok(Object.keys(cb.packets[0]!.decoder_events).length > 0, cut.body);
      assertError(
        await x.c.call('POST', '/api/analyze', { token: x.tokens.analyst, body: { store: true, packet: '00' } }),
        400,
      );
      assertError(await x.c.call('POST', '/api/analyze', { token: x.tokens.analyst, body: {} }), 400);
    },
  },
  {
    method: 'POST',
    path: '/api/analyze/bulk',
    access: 'analyst',
    bad: (x) => x.c.call('POST', '/api/analyze/bulk', { token: x.tokens.analyst, body: { packets: [] } }),
    ok: async (x) => {
      const frames = connectionFrames();
      const r = await x.c.call('POST', '/api/analyze/bulk', {
        token: x.tokens.analyst,
        body: { packets: frames.map((f) => f.toString('hex')) },
      });
      assert.equal(r.statusCode, 200, r.body);
      const b = r.json() as {
        stored: boolean;
        totals: { packets: number; flows: number; alerts: number; protocols: Record<string, number> };
        flows: Flow[];
        alerts: Alert[];
      };
      assert.equal(b.stored, false);
      assert.equal(b.totals.packets, frames.length);
      assert.equal(b.totals.flows, 1);
      assert.equal(b.totals.protocols['tcp'], frames.length);
      const toServer = frames.filter((f) => srcOf(f) === '198.51.100.20');
      const toClient = frames.filter((f) => srcOf(f) === '10.3.3.3');
      const [flow] = b.flows;
      assert.equal(flow!.packets_to_server, toServer.length);
      assert.equal(flow!.packets_to_client, toClient.length);
      assert.equal(flow!.features['Total Fwd Packet'], toServer.length);
      assert.equal(flow!.features['Total Bwd packets'], toClient.length);
      assert.equal(flow!.features['Dst Port'], 80);
      assert.equal(flow!.features['Protocol'], 6);
      assert.equal(flow!.features['SYN Flag Count'], 2);
      assert.equal(flow!.app_proto, 'http');
      assert.notEqual(flow!.classifier, null);

      // Sessions built from fields, one flow each; the SQL injection alerts, the other does not.
      const s = await x.c.call('POST', '/api/analyze/bulk', {
        token: x.tokens.analyst,
        body: {
          sessions: [
            { src_ip: '203.0.113.9', dst_ip: '10.1.1.1', protocol: 'tcp', payload: SQLI_REQUEST },
            { src_ip: '192.0.2.5', dst_ip: '10.1.1.53', protocol: 'udp', dst_port: 53, payload_hex: '00' },
          ],
        },
      });
      assert.equal(s.statusCode, 200, s.body);
      const sb = s.json() as { totals: { flows: number; alerts_by_type: Record<string, number> }; flows: Flow[] };
      assert.equal(sb.totals.flows, 2);
      assert.ok((sb.totals.alerts_by_type['sql_injection'] ?? 0) > 0);
      assert.deepEqual(sb.flows.map((f) => f.protocol).sort(), ['TCP', 'UDP']);

      // Over the bound: a clear 400, not a slow answer.
      const tooMany = Array.from({ length: MAX_BULK_PACKETS + 1 }, () => frames[0]!.toString('hex'));
      const big = await x.c.call('POST', '/api/analyze/bulk', { token: x.tokens.analyst, body: { packets: tooMany } });
      assertError(big, 400, 'VIGIL_API_VALIDATION');
      assert.match(big.body, /at most 1000 packets per bulk request \(got 1001\)/);
      assertError(
        await x.c.call('POST', '/api/analyze/bulk', {
          token: x.tokens.analyst,
          body: { packets: ['00'], sessions: [{ src_ip: '192.0.2.1', dst_ip: '192.0.2.2', protocol: 'udp' }] },
        }),
        400,
      );
      assertError(
        await x.c.call('POST', '/api/analyze/bulk', {
          token: x.tokens.analyst,
          body: { sessions: [{ src_ip: '192.0.2.1', dst_ip: '2001:db8::1', protocol: 'udp' }] },
        }),
        400,
      );
    },
  },
  {
    method: 'POST',
    path: '/api/analyze/flow',
    access: 'analyst',
    bad: (x) =>
      x.c.call('POST', '/api/analyze/flow', { token: x.tokens.analyst, body: { features: { 'No Such Feature': 1 } } }),
    ok: async (x) => {
      // The vector of a real flow (from /api/analyze), scored here and by the model directly.
      const a = await x.c.call('POST', '/api/analyze', {
        token: x.tokens.analyst,
        body: { fields: { src_ip: '203.0.113.9', dst_ip: '10.1.1.1', protocol: 'tcp', payload: SQLI_REQUEST } },
      });
      const features = (a.json() as { flow: Flow }).flow.features;
      const r = await x.c.call('POST', '/api/analyze/flow', { token: x.tokens.analyst, body: { features } });
      assert.equal(r.statusCode, 200, r.body);
      const b = r.json() as {
        classifier: NonNullable<Flow['classifier']> & { type: string; confidence_threshold: number };
        classifier_reason: string | null;
        anomaly: unknown;
        would_alert: boolean;
        features_used: number;
      };
      assert.equal(b.classifier.predicted_class, directClass(features));
      assert.equal(b.classifier_reason, null);
      assert.equal(b.classifier.confidence_threshold, 0.9);
      assert.equal(b.classifier.would_alert, b.classifier.type !== 'benign' && b.classifier.confidence >= 0.9);
      assert.equal(b.would_alert, b.classifier.would_alert);
      assert.equal(b.anomaly, null);
      assert.equal(b.features_used, 78);
      // The same vector as an array in feature_names order: the same verdict.
      const arr = FEATURE_NAMES.map((f) => features[f] ?? 0);
      const r2 = await x.c.call('POST', '/api/analyze/flow', { token: x.tokens.analyst, body: { features: arr } });
      assert.equal(r2.statusCode, 200, r2.body);
      assert.deepEqual((r2.json() as typeof b).classifier.probabilities, b.classifier.probabilities);
      // A benign-looking and an attack-looking class can both be reached: the verdict follows the input.
      // Missing features are named; an array of the wrong length and unknown names are refused.
      const partial = { ...features };
      delete partial['Flow Duration'];
      delete partial['Fwd IAT Max'];
      const miss = await x.c.call('POST', '/api/analyze/flow', {
        token: x.tokens.analyst,
        body: { features: partial },
      });
      assertError(miss, 400, 'VIGIL_API_VALIDATION');
      assert.match(miss.body, /missing features.*Flow Duration, Fwd IAT Max/);
      const short = await x.c.call('POST', '/api/analyze/flow', {
        token: x.tokens.analyst,
        body: { features: [1, 2, 3] },
      });
      assertError(short, 400);
      assert.match(short.body, new RegExp(`${FEATURE_NAMES.length} numbers`));
      assertError(
        await x.c.call('POST', '/api/analyze/flow', { token: x.tokens.analyst, body: { features: { x: 'y' } } }),
        400,
      );
      assertError(await x.c.call('POST', '/api/analyze/flow', { token: x.tokens.analyst, body: {} }), 400);
      // CIC-IDS2017 spellings are accepted (" Destination Port" for Dst Port), and a feature given twice is refused.
      const aliased: Record<string, number | null> = { ...features, ' Destination Port': 80 };
      delete aliased['Dst Port'];
      assert.equal(
        (await x.c.call('POST', '/api/analyze/flow', { token: x.tokens.analyst, body: { features: aliased } }))
          .statusCode,
        200,
      );
      assertError(
        await x.c.call('POST', '/api/analyze/flow', {
          token: x.tokens.analyst,
          body: { features: { ...features, 'Destination Port': 80 } },
        }),
        400,
      );
    },
  },
  {
    method: 'GET',
    path: '/api/analyze/model-info',
    access: 'viewer',
    ok: async (x) => {
      const r = await x.c.call('GET', '/api/analyze/model-info', { token: x.tokens.viewer });
      assert.equal(r.statusCode, 200, r.body);
      const b = r.json() as {
        ml_enabled: boolean;
        classifier: {
          source: string;
          name: string;
          shipped_default: boolean;
          loaded: boolean;
          type: string;
          classes: string[];
          benign_class: string;
          features: string[];
          training: { metrics: { accuracy: number }; data: { rows: number } };
          drift_reference: boolean;
          threshold: { confidence: number };
        };
        anomaly: { source: string; loaded: boolean; reason: string; type: null };
        thresholds: { confidence: number; anomaly: number; anomaly_source: string };
        feature_names: string[];
      };
      assert.equal(b.ml_enabled, true);
      const c = b.classifier;
      assert.deepEqual([c.source, c.name, c.shipped_default, c.loaded], ['config', 'default', true, true]);
      assert.equal(c.type, 'random_forest');
      assert.equal(c.benign_class, 'benign');
      assert.ok(c.classes.includes('sql_injection'));
      assert.equal(c.features.length, 78);
      assert.ok(c.training.metrics.accuracy > 0.9);
      assert.ok(c.training.data.rows > 0);
      assert.equal(c.drift_reference, true);
      assert.equal(c.threshold.confidence, 0.9);
      assert.deepEqual([b.anomaly.source, b.anomaly.loaded, b.anomaly.type], ['none', false, null]);
      assert.match(b.anomaly.reason, /no anomaly model/);
      assert.equal(b.thresholds.anomaly_source, 'default');
      assert.deepEqual(b.feature_names, [...FEATURE_NAMES]);
      // The big training entries stay out, and so does the server's directory layout.
      assert.ok(!r.body.includes('"encoding"'));
      assert.ok(!r.body.includes(path.dirname(DEFAULT_MODEL_DIR)), 'no server path in model-info');
    },
  },
];

/** A small Isolation Forest on a few live features (trained here, saved as model.json in `dir`). */
async function anomalyModel(dir: string, threshold: number): Promise<ModelFile> {
  const features = ['Flow Duration', 'Total Fwd Packet', 'Total Bwd packets', 'Fwd Packet Length Max'];
  const n = 200;
  const x = new Float64Array(n * features.length);
  // Deterministic baseline: long flows with many packets (a handful of frames is far from it).
  for (let r = 0; r < n; r++)
    for (let j = 0; j < features.length; j++) x[r * features.length + j] = 1000 * (j + 1) + ((r * 37 + j * 11) % 100);
  const part = await trainIsolationForest(
    { x, n, d: features.length, features, y: new Int32Array(n).fill(-1), classes: [] },
    { params: { trees: 20, maxSamples: 64 }, seed: 7 },
  );
  const file: ModelFile = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: part.type,
    features,
    classes: [],
    benignClass: null,
    params: part.params,
    training: { threshold, created: '2026-11-27T00:00:00.000Z', data: { rows: n } },
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(file));
  return file;
}

async function login(c: Client, x: Ctx): Promise<void> {
  x.tokens.admin = await c.login('admin', ADMIN_PASSWORD);
  for (const [name, role] of [
    ['analyst1', 'analyst'],
    ['viewer1', 'viewer'],
  ] as const) {
    const r = await c.call('POST', '/api/users', {
      token: x.tokens.admin,
      body: { username: name, password: `${role}-password`, role },
    });
    assert.equal(r.statusCode, 201, r.body);
    x.tokens[role] = await c.login(name, `${role}-password`);
  }
}

export function analyzeSuite(backend: ServerBackend): void {
  describe(`analyze routes on ${backend.name}`, () => {
    let repo: Repository;
    let app: FastifyInstance;
    let dir: string;
    const x = { tokens: {} as Tokens } as Ctx;

    /** A server as `vigil serve` builds it, on this backend's store, with `env` as its environment. */
    async function serve(cfg: ServerConfig, env: Record<string, string>): Promise<FastifyInstance> {
      const ext = serveExtensions(cfg, { env, settings: { testRoutes: false }, live: { probe: false } });
      return buildServer({ config: cfg, repo, logger: false, extensions: ext.extensions });
    }

    before(async () => {
      dir = tempDir('vigil-analyze-');
      repo = await backend.newRepository();
      app = await serve(testConfig({ dataDir: dir }), {});
      x.c = client(app);
      await login(x.c, x);
    });
    after(async () => {
      await app.close();
      await repo.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    routeTableTests('analyze', x, CASES, (p) => p.startsWith('/api/analyze'));

    test('the analyze routes are tagged analyze in the OpenAPI document', async () => {
      const r = await x.c.call('GET', '/api/docs', { token: x.tokens.viewer });
      const doc = r.json() as { paths: Record<string, Record<string, { tags?: string[] }>> };
      assert.ok(doc.paths['/api/analyze/flow']?.['post']?.tags?.includes('analyze'));
    });

    test('rate limits: analyze 30 per minute, bulk 10 per minute, the others the defaults', async () => {
      const d = tempDir('vigil-analyze-rl-');
      const cfg = testConfig({ dataDir: d });
      cfg.rateLimit = { ...cfg.rateLimit, enabled: true };
      const app2 = await serve(cfg, {});
      try {
        const c = client(app2);
        const limitOf = async (method: 'GET' | 'POST', url: string): Promise<string> =>
          String((await c.call(method, url, { token: x.tokens.analyst, body: {} })).headers['x-ratelimit-limit']);
        assert.equal(await limitOf('POST', '/api/analyze'), '30');
        assert.equal(await limitOf('POST', '/api/analyze/bulk'), '10');
        assert.equal(await limitOf('POST', '/api/analyze/flow'), '50');
        assert.equal(await limitOf('GET', '/api/analyze/model-info'), '50');
      } finally {
        await app2.close();
        fs.rmSync(d, { recursive: true, force: true });
      }
    });

    test('no model: 200 with classifier null and the reason; model-info says none', async () => {
      const d = tempDir('vigil-analyze-none-');
      const app2 = await serve(testConfig({ dataDir: d }), { CLASSIFICATION_MODEL_PATH: 'none' });
      try {
        const c = client(app2);
        const r = await c.call('POST', '/api/analyze/flow', {
          token: x.tokens.analyst,
          body: { features: { 'Flow Duration': 5 } },
        });
        assert.equal(r.statusCode, 200, r.body);
        const b = r.json() as { classifier: null; classifier_reason: string; anomaly: null; would_alert: boolean };
        assert.equal(b.classifier, null);
        assert.match(b.classifier_reason, /no classifier is active/);
        assert.equal(b.would_alert, false);
        const info = await c.call('GET', '/api/analyze/model-info', { token: x.tokens.viewer });
        assert.equal(info.statusCode, 200, info.body);
        const ib = info.json() as { classifier: { source: string; name: null; loaded: boolean } };
        assert.deepEqual([ib.classifier.source, ib.classifier.name, ib.classifier.loaded], ['none', null, false]);
        const a = await c.call('POST', '/api/analyze', {
          token: x.tokens.analyst,
          body: { fields: { src_ip: '192.0.2.1', dst_ip: '192.0.2.2', protocol: 'icmp' } },
        });
        assert.equal(a.statusCode, 200, a.body);
        const ab = a.json() as { flow: Flow; models: { classifier: null; classifier_reason: string } };
        assert.equal(ab.flow.protocol, 'ICMP');
        assert.equal(ab.flow.classifier, null);
        assert.match(ab.models.classifier_reason, /no classifier/);
        // A configured model that does not exist: reported, never a 500, and without the server's paths.
        const d3 = tempDir('vigil-analyze-missing-');
        const app3 = await serve(testConfig({ dataDir: d3 }), { ANOMALY_MODEL_PATH: path.join(d3, 'nothing-here') });
        try {
          const m = await client(app3).call('GET', '/api/analyze/model-info', { token: x.tokens.viewer });
          assert.equal(m.statusCode, 200, m.body);
          const mb = m.json() as { anomaly: { source: string; name: string; loaded: boolean; error: string } };
          assert.deepEqual([mb.anomaly.source, mb.anomaly.name, mb.anomaly.loaded], ['config', 'nothing-here', false]);
          assert.match(mb.anomaly.error, /model\.json not found/);
          assert.ok(!m.body.includes(d3), m.body);
        } finally {
          await app3.close();
          fs.rmSync(d3, { recursive: true, force: true });
        }
        // A bad ML setting: a 503 that names it, not a 500.
        const d4 = tempDir('vigil-analyze-badenv-');
        const app4 = await serve(testConfig({ dataDir: d4 }), { CLASSIFICATION_CONFIDENCE_THRESHOLD: 'abc' });
        try {
          const m = await client(app4).call('GET', '/api/analyze/model-info', { token: x.tokens.viewer });
          assertError(m, 503, 'VIGIL_API_UNAVAILABLE');
          assert.match(m.body, /CLASSIFICATION_CONFIDENCE_THRESHOLD/);
        } finally {
          await app4.close();
          fs.rmSync(d4, { recursive: true, force: true });
        }
      } finally {
        await app2.close();
        fs.rmSync(d, { recursive: true, force: true });
      }
    });

    test('an anomaly model: scores, thresholds, alerts; a store-activated model replaces the configured one', async () => {
      const d = tempDir('vigil-analyze-anomaly-');
      const modelDir = path.join(d, 'iforest');
      const file = await anomalyModel(modelDir, 0.6);
      // A threshold every flow passes (ANOMALY_SCORE_THRESHOLD overrides the calibrated 0.6).
      const cfg = testConfig({ dataDir: d });
      const ext = serveExtensions(cfg, {
        env: { ANOMALY_MODEL_PATH: modelDir, ANOMALY_SCORE_THRESHOLD: '0.01' },
        settings: { testRoutes: false },
        live: { probe: false },
      });
      const app2 = await buildServer({ config: cfg, repo, logger: false, extensions: ext.extensions });
      try {
        const c = client(app2);
        const info = (await c.call('GET', '/api/analyze/model-info', { token: x.tokens.viewer })).json() as {
          anomaly: { source: string; name: string; type: string; features: string[]; threshold: unknown };
          thresholds: { anomaly: number; anomaly_source: string };
        };
        assert.deepEqual(
          [info.anomaly.source, info.anomaly.name, info.anomaly.type],
          ['config', 'iforest', 'isolation_forest'],
        );
        assert.deepEqual(info.anomaly.threshold, { score: 0.01, source: 'config' });
        assert.deepEqual(info.anomaly.features, file.features);

        const a = await c.call('POST', '/api/analyze', {
          token: x.tokens.analyst,
          body: { fields: { src_ip: '203.0.113.50', dst_ip: '10.0.0.9', protocol: 'tcp', payload: 'hello' } },
        });
        assert.equal(a.statusCode, 200, a.body);
        const ab = a.json() as { flow: Flow; alerts: Alert[]; models: { anomaly: { name: string } } };
        assert.equal(ab.models.anomaly.name, 'iforest');
        assert.ok(ab.flow.anomaly !== null && ab.flow.anomaly.score > 0 && ab.flow.anomaly.would_alert);
        assert.equal(ab.flow.anomaly.threshold, 0.01);
        assert.ok(
          ab.alerts.some((al) => al.detector === 'anomaly' && al.type === 'anomaly'),
          a.body,
        );

        // /flow now needs the anomaly model's features too (the union of both models').
        const only = Object.fromEntries(file.features.map((f) => [f, 1]));
        const miss = await c.call('POST', '/api/analyze/flow', { token: x.tokens.analyst, body: { features: only } });
        assertError(miss, 400);
        assert.match(miss.body, /missing features the active models use/);
        const direct = loadScoringModel(modelDir);
        const row = Float64Array.from(file.features, (f) => ab.flow.features[f] ?? 0);
        const out = new Float64Array(1);
        direct.model.score!(row, 1, out);
        const fr = await c.call('POST', '/api/analyze/flow', {
          token: x.tokens.analyst,
          body: { features: ab.flow.features },
        });
        assert.equal(fr.statusCode, 200, fr.body);
        const fb = fr.json() as { anomaly: { score: number; would_alert: boolean }; would_alert: boolean };
        assert.ok(Math.abs(fb.anomaly.score - out[0]!) < 1e-6);
        assert.equal(fb.would_alert, true);

        // Trained through the store and activated: model-info reports the store version.
        const run = ext.models.store.save({ ...file, training: { threshold: 0.7 } }, {});
        ext.models.store.activate(run.version);
        ext.models.changed();
        const s = (await c.call('GET', '/api/analyze/model-info', { token: x.tokens.viewer })).json() as {
          anomaly: { source: string; name: string; version: string };
        };
        assert.deepEqual([s.anomaly.source, s.anomaly.name, s.anomaly.version], ['store', run.version, run.version]);
      } finally {
        await app2.close();
        fs.rmSync(d, { recursive: true, force: true });
      }
    });
  });
}
