/**
 * Rule reload over the API (issue 4 item 7): GET /api/rules and POST /api/rules/reload on a
 * server built as `vigil serve` builds it, with rule files under DATA_DIR/rules. A broken ruleset
 * is refused with its errors (409) and the previous one stays in use; the audit log records both.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { serveExtensions } from '../../src/server/extensions.js';
import type { Repository } from '../../src/store/repository.js';
import { tempDir } from '../helpers/paths.js';
import { ADMIN_PASSWORD, assertError, client, testConfig } from './server-suite.js';
import type { Client, ServerBackend } from './server-suite.js';

const rule = (sid: number, content: string): string =>
  `alert http any any -> any any (msg:"local ${sid}"; http.uri; content:"${content}"; sid:${sid}; rev:1;)\n`;

interface Info {
  version: number;
  loaded: number;
  files: string[];
  builtin: boolean;
  skipped_by_reason: Record<string, number>;
  last_reload: { ok: boolean; error: string | null } | null;
}

export function rulesSuite(backend: ServerBackend): void {
  describe(`rule routes on ${backend.name}`, () => {
    let repo: Repository;
    let app: FastifyInstance;
    let dir: string;
    let c: Client;
    const tokens = { admin: '', analyst: '', viewer: '' };

    before(async () => {
      dir = tempDir('vigil-rules-api-');
      fs.mkdirSync(path.join(dir, 'rules'));
      fs.writeFileSync(path.join(dir, 'rules', 'local.rules'), rule(1000001, '/one'));
      repo = await backend.newRepository();
      const cfg = testConfig({ dataDir: dir });
      const ext = serveExtensions(cfg, { env: {}, settings: { testRoutes: false }, live: { probe: false } });
      app = await buildServer({ config: cfg, repo, logger: false, extensions: ext.extensions });
      c = client(app);
      tokens.admin = await c.login('admin', ADMIN_PASSWORD);
      for (const role of ['analyst', 'viewer'] as const) {
        const r = await c.call('POST', '/api/users', {
          token: tokens.admin,
          body: { username: `${role}1`, password: `${role}-password`, role },
        });
        assert.equal(r.statusCode, 201, r.body);
        tokens[role] = await c.login(`${role}1`, `${role}-password`);
      }
    });
    after(async () => {
      await app.close();
      await repo.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('GET /api/rules: the ruleset in use (viewer); 401 without credentials', async () => {
      assertError(await c.call('GET', '/api/rules'), 401, 'VIGIL_API_UNAUTHENTICATED');
      const r = await c.call('GET', '/api/rules', { token: tokens.viewer });
      assert.equal(r.statusCode, 200, r.body);
      const b = r.json() as Info;
      assert.equal(b.version, 1);
      assert.equal(b.builtin, true);
      assert.deepEqual(b.files, [path.join(dir, 'rules', 'local.rules')]);
      assert.ok(b.loaded > 1, 'built-in rules plus the local one');
    });

    test('POST /api/rules/reload: admin only; new rules swap in; a broken set is refused (409), the old stays', async () => {
      assertError(await c.call('POST', '/api/rules/reload'), 401);
      assertError(await c.call('POST', '/api/rules/reload', { token: tokens.analyst }), 403, 'VIGIL_API_FORBIDDEN');
      assertError(await c.call('POST', '/api/rules/reload', { token: tokens.admin, body: { x: 1 } }), 400);
      const before = (await c.call('GET', '/api/rules', { token: tokens.viewer })).json() as Info;
      fs.writeFileSync(path.join(dir, 'rules', 'more.rules'), rule(1000002, '/two'));
      const ok = await c.call('POST', '/api/rules/reload', { token: tokens.admin });
      assert.equal(ok.statusCode, 200, ok.body);
      const after1 = ok.json() as Info;
      assert.equal(after1.version, 2);
      assert.equal(after1.loaded, before.loaded + 1);
      assert.equal(after1.last_reload?.ok, true);

      fs.writeFileSync(
        path.join(dir, 'rules', 'zbroken.rules'),
        'alert tcp any any -> any any (msg:"x"; content:"|GZ|"; sid:7;)\n',
      );
      const refused = await c.call('POST', '/api/rules/reload', { token: tokens.admin });
      assertError(refused, 409, 'VIGIL_RULES_REFUSED');
      const err = (
        refused.json() as { error: { message: string; errors: { file: string; line: number; reason: string }[] } }
      ).error;
      assert.match(err.message, /previous one stays in use/);
      assert.equal(err.errors.length, 1);
      assert.equal(err.errors[0]!.file, path.join(dir, 'rules', 'zbroken.rules'));
      assert.equal(err.errors[0]!.line, 1);
      assert.match(err.errors[0]!.reason, /content/);
      const still = (await c.call('GET', '/api/rules', { token: tokens.viewer })).json() as Info;
      assert.equal(still.version, 2);
      assert.equal(still.loaded, after1.loaded);
      assert.equal(still.last_reload?.ok, false);
      const acts = await repo.listActivities({ limit: 10 });
      const actions = acts.activities.map((a) => a.action);
      assert.ok(actions.includes('rules.reload') && actions.includes('rules.reload_refused'), actions.join(','));
    });
  });
}
