/**
 * Extension points for the parts of the server still to come (pcap, analyze, training, Socket.IO):
 * their routes join the built-in ones under the same auth, rate limits and error format; a route
 * without `config.access` or a schema stops start-up; attach and close run in order; the capture
 * status shows in /api/health.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import type { ServerExtension } from '../../src/server/context.js';
import { openRepository } from '../../src/store/open.js';
import { ADMIN_PASSWORD, assertError, client, testConfig } from './server-suite.js';

const memory = () => openRepository({ backend: 'sqlite', file: ':memory:', dedupWindowS: 300 });

test('an extension adds routes, attaches after them and closes before the store', async () => {
  const events: string[] = [];
  const ext: ServerExtension = {
    name: 'pcap',
    routes: async (app: FastifyInstance) => {
      app.post(
        '/api/pcap/analyze',
        {
          config: { access: 'analyst', rateLimit: '2 per minute' },
          schema: { body: { type: 'object', required: ['x'], properties: { x: { type: 'integer' } } } },
        },
        async (_req, reply) => reply.code(202).send({ analysis_id: 'a1', status: 'queued' }),
      );
    },
    attach: (app) => {
      events.push(`attach:${app.printRoutes().includes('pcap/analyze') ? 'routes-present' : 'no-routes'}`);
    },
    close: async () => {
      events.push('close');
    },
  };
  const cfg = testConfig();
  cfg.rateLimit.enabled = true;
  const app = await buildServer({
    config: cfg,
    extensions: [ext],
    logger: false,
    captureStatus: () => ({ enabled: true, state: 'running', interface: 'eth0', reason: null }),
  });
  // The server opened its own store here (no repo given): it closes it after the extension.
  const c = client(app);
  const admin = await c.login('admin', ADMIN_PASSWORD);
  assertError(await c.call('POST', '/api/pcap/analyze', { body: { x: 1 } }), 401);
  assert.equal((await c.call('POST', '/api/pcap/analyze', { token: admin, body: { x: 1 } })).statusCode, 202);
  // The route's own limit, two per minute: the unauthenticated call counted too (limits run
  // before authentication, as Flask-Limiter's do, so they also slow down token guessing).
  assertError(await c.call('POST', '/api/pcap/analyze', { token: admin, body: { x: 1 } }), 429);
  const health = (await c.call('GET', '/api/health')).json() as { capture: { state: string; interface: string } };
  assert.deepEqual([health.capture.state, health.capture.interface], ['running', 'eth0']);
  const docs = (await c.call('GET', '/api/docs', { token: admin })).json() as { paths: Record<string, unknown> };
  assert.ok('/api/pcap/analyze' in docs.paths);
  await app.close();
  assert.deepEqual(events, ['attach:routes-present', 'close']);
});

test('a route without config.access or without a schema stops start-up', async () => {
  for (const [name, opts] of [
    ['no access', { schema: { response: {} } }],
    ['no schema', { config: { access: 'viewer' as const } }],
  ] as const) {
    const repo = await memory();
    try {
      await assert.rejects(
        buildServer({
          config: testConfig(),
          repo,
          logger: false,
          extensions: [{ name, routes: async (app) => void app.get('/api/open', opts, async () => ({})) }],
        }),
        /declares no config.access|has no schema/,
      );
    } finally {
      await repo.close();
    }
  }
});

test('logs never contain passwords, tokens or cookies', async () => {
  let logs = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });
  const cfg = testConfig();
  cfg.logLevel = 'trace';
  const repo = await memory();
  const app = await buildServer({ config: cfg, repo, logStream: sink });
  try {
    const c = client(app);
    const token = await c.login('admin', ADMIN_PASSWORD);
    await c.call('GET', '/api/alerts', { token });
    await c.call('GET', '/api/auth/me', { cookie: token });
    await c.call('POST', '/api/auth/login', { body: { username: 'admin', password: 'wrong-but-secret' } });
    assert.ok(logs.includes('/api/alerts'), 'requests are logged');
    for (const secret of [ADMIN_PASSWORD, token, 'wrong-but-secret'])
      assert.ok(!logs.includes(secret), `a secret reached the log`);
  } finally {
    await app.close();
    await repo.close();
  }
});
