/**
 * The training routes (src/server/training.ts) on every backend (server-training-sqlite.test.ts,
 * server-training-postgres.test.ts), through `vigil serve`'s extensions on a server listening on
 * 127.0.0.1:0 with a real store and model store under a temporary data directory.
 *
 * Behaviour (issue 7): every training GET answers 200 on a fresh data directory; a CICFlowMeter
 * CSV (test/fixtures/training) is imported, a bad CSV is refused with nothing imported; a small
 * random forest is trained as a job (waited on through the queue, `training_progress` relayed over
 * Socket.IO), its run is listed by the history with metrics and its confusion matrix sums to the
 * test rows; activation shows it in model-info, a corrupt version is refused with the active model
 * unchanged, rollback returns to the previous one; label / unlabel / delete round trips; a PCAP
 * analysis of corpus/port_scan.pcap stores unlabeled samples with suggested labels. Then every
 * route of the OpenAPI document under /api/training has its 401, 403 and 400 case. Waits are on
 * the job queues and socket events, never sleeps.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { io as ioClient } from 'socket.io-client';
import { FEATURE_NAMES } from '../../src/flow/features.js';
import type { TrainingJobView } from '../../src/jobs/training-job.js';
import { buildServer } from '../../src/server/app.js';
import { serveExtensions } from '../../src/server/extensions.js';
import type { ServeExtensions } from '../../src/server/extensions.js';
import type { Repository } from '../../src/store/repository.js';
import { FIXTURES_DIR, SHARED_DIR, tempDir } from '../helpers/paths.js';
import type { Client, JsonResult, Role, RouteCase, ServerBackend } from './server-suite.js';
import { ADMIN_PASSWORD, assertError, assertErrorJson, client, routeTableTests, testConfig } from './server-suite.js';

const CSV = path.join(FIXTURES_DIR, 'training', 'cicids2017-sample.csv');
const PORT_SCAN = path.join(SHARED_DIR, 'corpus', 'port_scan.pcap');

/** A multipart upload over real HTTP. */
async function upload(
  base: string,
  url: string,
  token: string | null,
  body: Buffer,
  fields: Record<string, string> = {},
  opts: { field?: string; filename?: string } = {},
): Promise<JsonResult> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append(opts.field ?? 'file', new Blob([body]), opts.filename ?? 'flows.csv');
  const r = await fetch(`${base}${url}`, {
    method: 'POST',
    body: form,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

/** A flow feature vector as the API takes it (object form), varied by `k`. */
function features(k: number, attack: boolean): Record<string, number> {
  return {
    'Flow Duration': attack ? 50 + k : 200_000 + k * 1000,
    'Total Fwd Packet': attack ? 1 : 10 + (k % 5),
    'Total Bwd packets': attack ? 1 : 8 + (k % 3),
    'SYN Flag Count': attack ? 1 : 0,
    'Dst Port': attack ? 1000 + k : 443,
  };
}

interface Ctx {
  c: Client;
  base: string;
  tokens: Record<Role, string>;
  ext: ServeExtensions;
  dir: string;
  /** A manual sample (label round trips), a sample to delete, the first trained version. */
  sampleId: number;
  deleteId: number;
  jobId: string;
}

type Case = RouteCase<Ctx>;

const get = async (x: Ctx, url: string, role: Role = 'viewer'): Promise<Record<string, unknown>> => {
  const r = await x.c.call('GET', url, { token: x.tokens[role] });
  assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
  return r.json() as Record<string, unknown>;
};

/** Train through the API and wait for the job (bounded: the queue's promise, not a sleep). */
async function trainAndWait(x: Ctx, role: Role, body: Record<string, unknown>): Promise<TrainingJobView> {
  const r = await x.c.call('POST', '/api/training/train', { token: x.tokens[role], body });
  assert.equal(r.statusCode, 202, r.body);
  const job = r.json() as { job_id: string; status: string; url: string };
  assert.ok(['queued', 'running'].includes(job.status));
  const done = await x.ext.training.queue()!.wait(job.job_id);
  assert.ok(done !== null);
  return done;
}

const CASES: Case[] = [
  {
    method: 'POST',
    path: '/api/training/label',
    access: 'analyst',
    bad: (x) => x.c.call('POST', '/api/training/label', { token: x.tokens.analyst, body: { sample_id: 'one' } }),
    ok: async (x) => {
      const r = await x.c.call('POST', '/api/training/label', {
        token: x.tokens.analyst,
        body: { sample_id: x.sampleId, label: 'brute_force' },
      });
      assert.equal(r.statusCode, 200, r.body);
      assert.equal((r.json() as { sample: { type: string } }).sample.type, 'brute_force');
    },
  },
  {
    method: 'GET',
    path: '/api/training/data',
    access: 'viewer',
    bad: (x) => x.c.call('GET', '/api/training/data?limit=0', { token: x.tokens.viewer }),
    ok: async (x) => {
      const b = (await get(x, '/api/training/data?source=import&labeled=true&limit=5&include_features=false')) as {
        samples: { source: string; features?: unknown }[];
        total: number;
      };
      assert.equal(b.samples.length, 5);
      assert.ok(b.total >= 240);
      assert.ok(b.samples.every((s) => s.source === 'import' && s.features === undefined));
    },
  },
  {
    method: 'GET',
    path: '/api/training/data/unlabeled',
    access: 'viewer',
    bad: (x) => x.c.call('GET', '/api/training/data/unlabeled?source=NOT%20A%20SOURCE', { token: x.tokens.viewer }),
    ok: async (x) => {
      const b = (await get(x, '/api/training/data/unlabeled?limit=3')) as { samples: { label: null }[] };
      assert.ok(b.samples.every((s) => s.label === null));
    },
  },
  {
    method: 'POST',
    path: '/api/training/import',
    access: 'analyst',
    bad: (x) => x.c.call('POST', '/api/training/import', { token: x.tokens.analyst, body: { samples: [] } }),
    ok: async (x) => {
      const r = await x.c.call('POST', '/api/training/import', {
        token: x.tokens.analyst,
        body: { samples: [{ features: features(1, false), label: 'Normal' }, { features: features(2, true) }] },
      });
      assert.equal(r.statusCode, 201, r.body);
      const b = r.json() as { imported: number; labels: Record<string, number> };
      assert.equal(b.imported, 2);
      assert.deepEqual(b.labels, { benign: 1, '(unlabeled)': 1 });
    },
  },
  {
    method: 'DELETE',
    path: '/api/training/data/{id}',
    access: 'admin',
    url: (x) => `/api/training/data/${x.deleteId}`,
    bad: (x) => x.c.call('DELETE', '/api/training/data/abc', { token: x.tokens.admin }),
    ok: async (x) => {
      const r = await x.c.call('DELETE', `/api/training/data/${x.deleteId}`, { token: x.tokens.admin });
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json(), { deleted: true, id: x.deleteId });
      assertError(await x.c.call('DELETE', `/api/training/data/${x.deleteId}`, { token: x.tokens.admin }), 404);
    },
  },
  {
    method: 'GET',
    path: '/api/training/statistics',
    access: 'viewer',
    ok: async (x) => {
      const b = (await get(x, '/api/training/statistics')) as { labeled: number; ready_to_train: boolean };
      assert.ok(b.labeled >= 240);
      assert.equal(b.ready_to_train, true);
    },
  },
  {
    method: 'POST',
    path: '/api/training/train',
    access: 'analyst',
    bad: (x) =>
      x.c.call('POST', '/api/training/train', { token: x.tokens.analyst, body: { model_type: 'deep_magic' } }),
    ok: async (x) => {
      // Analysts train; activating needs an admin (refused before anything is queued).
      assertError(
        await x.c.call('POST', '/api/training/train', {
          token: x.tokens.analyst,
          body: { model_type: 'random_forest', activate: true },
        }),
        403,
        'VIGIL_API_FORBIDDEN',
      );
      // A parameter the trainer does not know is a 400, not a failed job.
      assertError(
        await x.c.call('POST', '/api/training/train', {
          token: x.tokens.analyst,
          body: { model_type: 'random_forest', params: { treez: 3 } },
        }),
        400,
        'VIGIL_API_VALIDATION',
      );
    },
  },
  {
    method: 'GET',
    path: '/api/training/jobs',
    access: 'viewer',
    ok: async (x) => {
      const b = (await get(x, '/api/training/jobs')) as { jobs: { job_id: string }[] };
      assert.ok(b.jobs.some((j) => j.job_id === x.jobId));
    },
  },
  {
    method: 'GET',
    path: '/api/training/jobs/{id}',
    access: 'viewer',
    url: (x) => `/api/training/jobs/${x.jobId}`,
    bad: (x) => x.c.call('GET', '/api/training/jobs/not_a_job!', { token: x.tokens.viewer }),
    ok: async (x) => {
      const b = (await get(x, `/api/training/jobs/${x.jobId}`)) as { status: string; version: string };
      assert.equal(b.status, 'completed');
      assert.equal(b.version, 'v1');
      assertError(
        await x.c.call('GET', '/api/training/jobs/00000000-0000-0000-0000-000000000000', { token: x.tokens.viewer }),
        404,
      );
    },
  },
  {
    method: 'GET',
    path: '/api/training/evaluate',
    access: 'viewer',
    bad: (x) => x.c.call('GET', '/api/training/evaluate?data=everything', { token: x.tokens.viewer }),
    ok: async (x) => {
      const b = (await get(x, '/api/training/evaluate?version=v1')) as { metrics: { rows: number } };
      assert.ok(b.metrics.rows > 0);
      assertError(await x.c.call('GET', '/api/training/evaluate?version=v99', { token: x.tokens.viewer }), 404);
    },
  },
  {
    method: 'GET',
    path: '/api/training/metrics',
    access: 'viewer',
    bad: (x) => x.c.call('GET', '/api/training/metrics?role=oracle', { token: x.tokens.viewer }),
    ok: async (x) => {
      const b = (await get(x, '/api/training/metrics')) as {
        models: { classifier: { version: string; metrics: { macro_f1: number; per_class: object } } };
        runs: { version: string }[];
      };
      assert.equal(typeof b.models.classifier.metrics.macro_f1, 'number');
      assert.ok(b.runs.some((r) => r.version === 'v1'));
    },
  },
  {
    method: 'GET',
    path: '/api/training/model-info',
    access: 'viewer',
    ok: async (x) => {
      const b = (await get(x, '/api/training/model-info')) as { models: { classifier: { type: string } } };
      assert.equal(b.models.classifier.type, 'random_forest');
    },
  },
  {
    method: 'GET',
    path: '/api/training/confusion-matrix',
    access: 'viewer',
    bad: (x) => x.c.call('GET', '/api/training/confusion-matrix?version=latest', { token: x.tokens.viewer }),
    ok: async (x) => {
      const b = (await get(x, '/api/training/confusion-matrix?version=v1')) as { labels: string[]; rows: number };
      assert.ok(b.labels.length >= 2);
      assert.ok(b.rows > 0);
    },
  },
  {
    method: 'GET',
    path: '/api/training/history',
    access: 'viewer',
    bad: (x) => x.c.call('GET', '/api/training/history?limit=0', { token: x.tokens.viewer }),
    ok: async (x) => {
      const b = (await get(x, '/api/training/history?role=classifier&limit=10')) as { runs: { role: string }[] };
      assert.ok(b.runs.length >= 1 && b.runs.every((r) => r.role === 'classifier'));
    },
  },
  {
    method: 'POST',
    path: '/api/training/models/{version}/activate',
    access: 'admin',
    url: () => '/api/training/models/v1/activate',
    bad: (x) => x.c.call('POST', '/api/training/models/latest/activate', { token: x.tokens.admin }),
    ok: async (x) => {
      const r = await x.c.call('POST', '/api/training/models/v1/activate', { token: x.tokens.admin });
      assert.equal(r.statusCode, 200, r.body);
      assertError(await x.c.call('POST', '/api/training/models/v99/activate', { token: x.tokens.admin }), 404);
    },
  },
  {
    method: 'POST',
    path: '/api/training/rollback',
    access: 'admin',
    bad: (x) => x.c.call('POST', '/api/training/rollback?role=oracle', { token: x.tokens.admin }),
    ok: async (x) => {
      // Nothing before the first anomaly model: refused, with the reason.
      assertError(
        await x.c.call('POST', '/api/training/rollback?role=anomaly', { token: x.tokens.admin }),
        409,
        'VIGIL_API_CONFLICT',
      );
    },
  },
];

export function trainingSuite(backend: ServerBackend): void {
  describe(`training routes on ${backend.name}`, () => {
    let repo: Repository;
    let app: FastifyInstance;
    const x = { tokens: {} as Record<Role, string> } as Ctx;

    before(async () => {
      x.dir = tempDir('vigil-training-');
      repo = await backend.newRepository();
      const cfg = testConfig({ dataDir: x.dir });
      x.ext = serveExtensions(cfg, {
        env: {},
        settings: { testRoutes: false, pcapTrainingSamples: 300 },
        live: { probe: false },
        pcap: { queueOptions: { progressIntervalMs: 20 } },
        training: { maxImportBytes: 512 * 1024 },
      });
      app = await buildServer({ config: cfg, repo, logger: false, extensions: x.ext.extensions });
      x.base = await app.listen({ host: '127.0.0.1', port: 0 });
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
      fs.rmSync(x.dir, { recursive: true, force: true });
    });

    test('on a fresh data directory every training GET answers 200 with empty results', async () => {
      const doc = (await get(x, '/api/docs')) as { paths: Record<string, Record<string, unknown>> };
      const gets = Object.entries(doc.paths)
        .filter(([p, ops]) => p.startsWith('/api/training') && 'get' in ops && !p.includes('{'))
        .map(([p]) => p);
      assert.ok(gets.length >= 9, gets.join(' '));
      for (const p of gets) await get(x, p);
      const data = (await get(x, '/api/training/data')) as { samples: unknown[]; total: number };
      assert.deepEqual([data.samples, data.total], [[], 0]);
      const stats = (await get(x, '/api/training/statistics')) as {
        total: number;
        ready_to_train: boolean;
        reason: string;
      };
      assert.equal(stats.total, 0);
      assert.equal(stats.ready_to_train, false);
      assert.match(stats.reason, /at least 10/);
      const hist = (await get(x, '/api/training/history')) as { runs: unknown[]; events: unknown[] };
      assert.deepEqual([hist.runs, hist.events], [[], []]);
      // No model trained yet: the configured (shipped) classifier, no anomaly model.
      const info = (await get(x, '/api/training/model-info')) as {
        models: { classifier: { source: string }; anomaly: { source: string; type: null } };
      };
      assert.equal(info.models.classifier.source, 'config');
      assert.equal(info.models.anomaly.source, 'none');
      const samples = (await get(x, '/api/training/evaluate?data=samples')) as { rows: number; metrics: null };
      assert.deepEqual([samples.rows, samples.metrics], [0, null]);
      const none = (await get(x, '/api/training/confusion-matrix?role=anomaly')) as { labels: []; matrix: [] };
      assert.deepEqual([none.labels, none.matrix], [[], []]);
      // Too few samples: training is refused with the reason.
      const r = await x.c.call('POST', '/api/training/train', {
        token: x.tokens.analyst,
        body: { model_type: 'random_forest' },
      });
      assertError(r, 400, 'VIGIL_API_VALIDATION');
      assert.match(r.body, /at least 10/);
    });

    test('a CICFlowMeter CSV is imported into the live feature set; bad CSVs import nothing', async () => {
      const r = await upload(x.base, '/api/training/import', x.tokens.analyst, fs.readFileSync(CSV), {
        format: 'cicflowmeter',
      });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.equal(r.json['imported'], 240);
      assert.equal(r.json['format'], 'cicflowmeter');
      assert.deepEqual(r.json['labels'], { benign: 80, Portscan: 80, 'DoS Hulk': 80 });
      // The CSV has no payload entropy or per-source counts: missing, not invented.
      assert.ok((r.json['missing_features'] as string[]).includes('Payload Entropy Fwd'));
      const count = async (): Promise<number> =>
        ((await get(x, '/api/training/data?limit=1')) as { total: number }).total;
      const before = await count();
      assert.equal(before, 240);
      // A label column that does not exist, a file of garbage, the wrong format, a NSL-KDD-like file
      // without flow features: 400 with a message, nothing imported.
      const lines = fs.readFileSync(CSV, 'utf8').split('\n');
      const cases: [Buffer, Record<string, string>, RegExp][] = [
        [fs.readFileSync(CSV), { label_column: 'Verdict' }, /Verdict/],
        [Buffer.from('\u0000\u0001binary junk\n\u0002'), {}, /./],
        [fs.readFileSync(CSV), { format: 'nsl-kdd' }, /cicflowmeter/],
        [Buffer.from('a,b,Label\n1,2,x\n3,4,y\n'), {}, /flow features/],
        [Buffer.from(lines.slice(0, 1).join('\n') + '\n'), {}, /no labeled rows|no rows|empty/i],
      ];
      for (const [body, fields, re] of cases) {
        const bad = await upload(x.base, '/api/training/import', x.tokens.analyst, body, fields);
        assertErrorJson(bad, 400, 'VIGIL_API_VALIDATION');
        assert.match(String((bad.json['error'] as { message: string }).message), re);
        assert.doesNotMatch(String((bad.json['error'] as { message: string }).message), /uploads/);
      }
      // Over TRAINING_IMPORT_MAX_MB (512 KiB here): 413.
      assertErrorJson(
        await upload(x.base, '/api/training/import', x.tokens.analyst, Buffer.alloc(600 * 1024, 0x41)),
        413,
        'VIGIL_API_PAYLOAD_TOO_LARGE',
      );
      // Wrong field, no credentials, a viewer.
      assertErrorJson(
        await upload(x.base, '/api/training/import', x.tokens.analyst, fs.readFileSync(CSV), {}, { field: 'csv' }),
        400,
      );
      assertErrorJson(await upload(x.base, '/api/training/import', null, fs.readFileSync(CSV)), 401);
      assertErrorJson(await upload(x.base, '/api/training/import', x.tokens.viewer, fs.readFileSync(CSV)), 403);
      assert.equal(await count(), before);
      assert.deepEqual(fs.readdirSync(path.join(x.dir, 'uploads')), []);
    });

    test('label, relabel, unlabel and delete round trips', async () => {
      const add = await x.c.call('POST', '/api/training/label', {
        token: x.tokens.analyst,
        body: { features: features(7, true), label: ' SSH brute force ', metadata: { note: 'from the SOC' } },
      });
      assert.equal(add.statusCode, 201, add.body);
      const s = (
        add.json() as { sample: { id: number; label: string; type: string; source: string; features: unknown[] } }
      ).sample;
      assert.equal(s.label, 'SSH brute force');
      assert.equal(s.type, 'brute_force');
      assert.equal(s.source, 'manual');
      assert.equal(s.features.length, FEATURE_NAMES.length);
      x.sampleId = s.id;
      const relabel = await x.c.call('POST', '/api/training/label', {
        token: x.tokens.analyst,
        body: { sample_id: s.id, label: 'BENIGN' },
      });
      assert.equal((relabel.json() as { sample: { label: string } }).sample.label, 'benign');
      const clear = await x.c.call('POST', '/api/training/label', {
        token: x.tokens.analyst,
        body: { sample_id: s.id, label: null },
      });
      const cleared = (clear.json() as { sample: { label: null; labeled_by: null } }).sample;
      assert.deepEqual([cleared.label, cleared.labeled_by], [null, null]);
      const unl = (await get(x, '/api/training/data/unlabeled?source=manual')) as { samples: { id: number }[] };
      assert.ok(unl.samples.some((u) => u.id === s.id));
      // Errors: unknown sample 404, both or neither of sample_id/features 400, a control character 400.
      assertError(
        await x.c.call('POST', '/api/training/label', {
          token: x.tokens.analyst,
          body: { sample_id: 999_999_999, label: 'dos' },
        }),
        404,
      );
      for (const body of [
        { label: 'dos' },
        { sample_id: s.id, features: features(1, true), label: 'dos' },
        { sample_id: s.id, label: 'a\u0007b' },
        { features: { 'No Such Feature': 1 }, label: 'dos' },
        { features: [1, 2, 3], label: 'dos' },
      ])
        assertError(await x.c.call('POST', '/api/training/label', { token: x.tokens.analyst, body }), 400);
      // A sample to delete (admin only).
      const tmp = await x.c.call('POST', '/api/training/label', {
        token: x.tokens.analyst,
        body: { features: features(9, false), label: 'benign' },
      });
      x.deleteId = (tmp.json() as { sample: { id: number } }).sample.id;
      assertError(
        await x.c.call('DELETE', `/api/training/data/${x.deleteId}`, { token: x.tokens.analyst }),
        403,
        'VIGIL_API_FORBIDDEN',
      );
    });

    test('training a random forest runs as a job; history, metrics and confusion matrix describe it', async () => {
      const s = ioClient(x.base, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        auth: { token: x.tokens.viewer },
      });
      try {
        await new Promise<void>((resolve, reject) => {
          s.once('connected', () => resolve());
          s.once('connect_error', reject);
        });
        const progress: { job_id: string; status: string; percent: number }[] = [];
        s.on('training_progress', (p: { job_id: string; status: string; percent: number }) => progress.push(p));
        const finished = new Promise<void>((resolve) =>
          s.on('training_progress', (p: { status: string }) => {
            if (p.status === 'completed' || p.status === 'failed') resolve();
          }),
        );
        const done = await trainAndWait(x, 'analyst', {
          model_type: 'random_forest',
          params: { trees: 10 },
          test_size: 0.25,
        });
        assert.equal(done.status, 'completed', done.error ?? '');
        x.jobId = done.job_id;
        assert.equal(done.version, 'v1');
        assert.equal(done.activated, false);
        // The CSV's 240 rows; the manual benign sample with five features is left out, not padded.
        assert.equal(done.samples, 240);
        assert.equal(done.skipped_samples, 1);
        assert.deepEqual(done.classes, { 'DoS Hulk': 80, Portscan: 80, benign: 80 });
        assert.ok(done.dropped_features!.includes('Payload Entropy Fwd'));
        assert.ok(done.metrics!.accuracy > 0.8, JSON.stringify(done.metrics));
        await finished;
        assert.ok(progress.some((p) => p.job_id === done.job_id && p.status === 'running'));
        assert.equal(progress.at(-1)?.percent, 100);
      } finally {
        s.disconnect();
      }
      const hist = (await get(x, '/api/training/history')) as {
        runs: { version: string; type: string; active: boolean; metrics: { macro_f1: number }; model_id: number }[];
        events: { action: string; version: string }[];
      };
      assert.equal(hist.runs[0]?.version, 'v1');
      assert.equal(hist.runs[0]?.type, 'random_forest');
      assert.equal(hist.runs[0]?.active, false);
      assert.equal(typeof hist.runs[0]?.metrics.macro_f1, 'number');
      assert.ok(hist.runs[0]!.model_id > 0);
      assert.deepEqual(hist.events[0], { ...hist.events[0], action: 'save', version: 'v1' });
      const ev = (await get(x, '/api/training/evaluate?version=v1')) as { metrics: { rows: number } };
      const cm = (await get(x, '/api/training/confusion-matrix?version=v1')) as {
        labels: string[];
        matrix: number[][];
        rows: number;
      };
      assert.deepEqual(cm.labels, ['benign', 'DoS Hulk', 'Portscan']);
      const sum = cm.matrix.flat().reduce((a, b) => a + b, 0);
      assert.equal(sum, ev.metrics.rows);
      // Stratified 25 % of 80 per class.
      assert.equal(sum, 60);
      // Re-scored on the labeled samples (every one of them has the model's features).
      const re = (await get(x, '/api/training/evaluate?version=v1&data=samples')) as {
        rows: number;
        metrics: { accuracy: number; confusion_matrix: { labels: string[] } };
      };
      assert.ok(re.rows >= 240);
      assert.ok(re.metrics.accuracy > 0.8);
      const byType = (await get(x, '/api/training/evaluate?version=v1&data=samples&by_type=true')) as {
        metrics: { confusion_matrix: { labels: string[] } };
      };
      assert.ok(byType.metrics.confusion_matrix.labels.includes('port_scan'));
    });

    test('activation, a refused corrupt model, rollback; model-info follows', async () => {
      let changed = 0;
      x.ext.models.on('change', () => changed++);
      const act = await x.c.call('POST', '/api/training/models/v1/activate', { token: x.tokens.admin });
      assert.equal(act.statusCode, 200, act.body);
      assert.deepEqual(act.json(), { version: 'v1', role: 'classifier', active: true, previous: null });
      assert.equal(changed, 1);
      const info = (await get(x, '/api/training/model-info')) as {
        models: {
          classifier: {
            source: string;
            version: string;
            type: string;
            classes: string[];
            features: string[];
            drift_reference: boolean;
            metrics: { accuracy: number };
            training_data: { rows: number };
          };
        };
      };
      const c = info.models.classifier;
      assert.deepEqual([c.source, c.version, c.type], ['store', 'v1', 'random_forest']);
      assert.deepEqual(c.classes, ['benign', 'DoS Hulk', 'Portscan']);
      assert.ok(c.features.length > 10 && !c.features.includes('Payload Entropy Fwd'));
      assert.equal(c.drift_reference, true);
      assert.equal(c.training_data.rows, 240);
      // New engines use it.
      assert.equal(x.ext.models.engineConfig().ml.classifierModel, path.join(x.dir, 'models', 'v1'));

      // An admin trains and activates in one go (v2), then rolls back to v1.
      const v2 = await trainAndWait(x, 'admin', {
        model_type: 'logistic_regression',
        activate: true,
        test_size: 0.2,
      });
      assert.equal(v2.status, 'completed', v2.error ?? '');
      assert.deepEqual([v2.version, v2.activated], ['v2', true]);
      assert.equal(((await get(x, '/api/training/model-info')) as typeof info).models.classifier.version, 'v2');
      const rb = await x.c.call('POST', '/api/training/rollback', { token: x.tokens.admin });
      assert.equal(rb.statusCode, 200, rb.body);
      assert.deepEqual(rb.json(), { role: 'classifier', version: 'v1', previous: 'v2' });
      assert.equal(((await get(x, '/api/training/model-info')) as typeof info).models.classifier.version, 'v1');

      // v2 corrupted on disk: activation is refused (409) and v1 stays active.
      fs.writeFileSync(path.join(x.dir, 'models', 'v2', 'model.json'), '{"format":"vigil-model","vers');
      const bad = await x.c.call('POST', '/api/training/models/v2/activate', { token: x.tokens.admin });
      assertError(bad, 409, 'VIGIL_API_CONFLICT');
      assert.match(bad.body, /v2/);
      assert.ok(!bad.body.includes(x.dir), 'no server path in the message');
      assert.equal(((await get(x, '/api/training/model-info')) as typeof info).models.classifier.version, 'v1');
      // The models table mirrors the store: v1 is the active classifier row.
      const active = await repo.activeModel('classifier');
      assert.deepEqual([active?.name, active?.version, active?.algorithm], ['vigil', 1, 'random_forest']);
      const hist = (await get(x, '/api/training/history')) as {
        runs: { version: string; active: boolean }[];
        events: { action: string }[];
      };
      assert.deepEqual(
        hist.runs.map((r) => [r.version, r.active]),
        [
          ['v2', false],
          ['v1', true],
        ],
      );
      assert.deepEqual(
        hist.events.map((e) => e.action),
        ['rollback', 'activate', 'save', 'activate', 'save'],
      );

      // Scheduled retraining (TRAINING_SCHEDULE_HOURS calls this): the active v1's type, parameters,
      // split and seed on the same samples give the same macro-F1, so v3 replaces it; no anomaly model.
      const first = await x.ext.training.retrainNow();
      const again = await x.ext.training.retrainNow();
      assert.deepEqual(
        again.map((o) => [o.role, o.job, o.skipped]),
        [
          ['classifier', null, 'the previous scheduled run has not finished'],
          ['anomaly', null, 'no anomaly trained through the API is active'],
        ],
      );
      const job = first.find((o) => o.role === 'classifier')!.job!;
      assert.equal(job.created_by, 'scheduler');
      const v3 = (await x.ext.training.queue()!.wait(job.job_id))!;
      assert.equal(v3.status, 'completed', v3.error ?? '');
      assert.deepEqual(
        [v3.version, v3.model_type, v3.activated, v3.activation_skipped],
        ['v3', 'random_forest', true, null],
      );
      assert.equal(((await get(x, '/api/training/model-info')) as typeof info).models.classifier.version, 'v3');
    });

    test('too few samples of a class, or one class: 400 with the reason; isolation_forest needs benign', async () => {
      const fresh = tempDir('vigil-training-one-');
      const repo2 = await backend.newRepository();
      const cfg = testConfig({ dataDir: fresh });
      const ext = serveExtensions(cfg, { env: {}, settings: { testRoutes: false }, live: { probe: false } });
      const app2 = await buildServer({ config: cfg, repo: repo2, logger: false, extensions: ext.extensions });
      try {
        const c = client(app2);
        const tok = await c.login('admin', ADMIN_PASSWORD);
        const samples = Array.from({ length: 12 }, (_, k) => ({ features: features(k, true), label: 'dos' }));
        assert.equal((await c.call('POST', '/api/training/import', { token: tok, body: { samples } })).statusCode, 201);
        const r = await c.call('POST', '/api/training/train', { token: tok, body: { model_type: 'svm' } });
        assertError(r, 400);
        assert.match(r.body, /two labels/);
        const iso = await c.call('POST', '/api/training/train', {
          token: tok,
          body: { model_type: 'isolation_forest' },
        });
        assertError(iso, 400);
        assert.match(iso.body, /benign/);
        const st = (await c.call('GET', '/api/training/statistics', { token: tok })).json() as {
          ready: Record<string, { ready: boolean; reason: string }>;
        };
        assert.equal(st.ready['random_forest']!.ready, false);
      } finally {
        await app2.close();
        await repo2.close();
        fs.rmSync(fresh, { recursive: true, force: true });
      }
    });

    test(
      'a PCAP analysis stores its flows as unlabeled samples with suggested labels',
      { skip: !fs.existsSync(PORT_SCAN) },
      async () => {
        const r = await upload(
          x.base,
          '/api/pcap/analyze',
          x.tokens.analyst,
          fs.readFileSync(PORT_SCAN),
          {},
          {
            filename: 'port_scan.pcap',
          },
        );
        assert.equal(r.status, 202, JSON.stringify(r.json));
        const id = r.json['analysis_id'] as string;
        const done = await x.ext.pcap.queue()!.wait(id);
        assert.equal(done?.status, 'completed', done?.error ?? '');
        // PCAP_TRAINING_SAMPLES is 300 here: a uniform sample of the capture's flows.
        assert.equal(done?.summary?.training_samples, 300);
        const page = (await get(x, '/api/training/data/unlabeled?source=pcap&limit=1000')) as {
          samples: {
            label: null;
            feature_set: string;
            features: (number | null)[];
            suggested_label: string | null;
            metadata: { analysis_id: string; src_ip: string; dst_port: number; alert_types: string[] };
          }[];
          total: number;
        };
        assert.equal(page.total, 300);
        assert.ok(page.samples.every((s) => s.metadata.analysis_id === id && s.label === null));
        assert.ok(
          page.samples.every((s) => s.features.length === FEATURE_NAMES.length && s.features.every((v) => v !== null)),
        );
        assert.ok(page.samples.every((s) => typeof s.metadata.src_ip === 'string'));
        const suggested = page.samples.filter((s) => s.suggested_label !== null);
        assert.ok(suggested.length > 0, 'some flows carry the alert types raised on them');
        assert.ok(suggested.every((s) => s.metadata.alert_types.includes(s.suggested_label!)));
        const stats = (await get(x, '/api/training/statistics')) as { by_source: Record<string, number> };
        assert.equal(stats.by_source['pcap'], 300);
        // Model info compares the newest unlabeled samples with the active model's training data.
        const unlabeled = (await get(x, '/api/training/data/unlabeled?limit=1')) as { total: number };
        const info = (await get(x, '/api/training/model-info')) as {
          models: {
            classifier: {
              drift_reference: boolean;
              drift: {
                status: string;
                rows?: number;
                score_psi?: number;
                features?: { feature: string; psi: number }[];
              };
            };
          };
        };
        const cls = info.models.classifier;
        if (cls.drift_reference) {
          assert.ok(['stable', 'moderate', 'significant'].includes(cls.drift.status), JSON.stringify(cls.drift));
          assert.equal(cls.drift.rows, Math.min(1000, unlabeled.total));
          assert.equal(typeof cls.drift.score_psi, 'number');
          const psis = cls.drift.features!.map((f) => f.psi);
          assert.deepEqual(
            psis,
            [...psis].sort((a, b) => b - a),
            'features by PSI, largest first',
          );
        } else assert.equal(cls.drift.status, 'no_reference');
      },
    );

    routeTableTests('training', x, CASES, (p) => p.startsWith('/api/training'));
  });
}
