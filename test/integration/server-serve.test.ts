/**
 * `vigil serve` as a process: starts on a temporary data directory, prints the admin credentials
 * once, answers /api/health, accepts the printed password, and shuts down cleanly on SIGTERM; a
 * second start on the same directory prints no password. Bad configuration stops start-up with a
 * one-line reason. `vigil config --server` redacts secrets.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

/** The built CLI beside this compiled test (dist/ or any --outDir). */
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-serve-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Longest wait for the server's "listening" line or its exit. */
const START_TIMEOUT_MS = 30_000;

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

function start(args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

/** Resolves with the base URL once the server prints its address (or fails when it exits first). */
function listening(run: Run): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(new Error(`no "listening" line within ${START_TIMEOUT_MS} ms: ${run.out()} ${run.err()}`));
    }, START_TIMEOUT_MS);
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(run.out());
      if (m !== null) {
        clearTimeout(timer);
        run.child.stdout!.off('data', check);
        resolve(m[1]!);
      }
    };
    run.child.stdout!.on('data', check);
    void run.exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before listening: ${run.out()} ${run.err()}`));
    });
  });
}

test('vigil serve: first start prints the admin password, health is 200, SIGTERM stops cleanly', async () => {
  const data = path.join(dir, 'data');
  const env = { VIGIL_DATA_DIR: data, VIGIL_PORT: '0', VIGIL_HOST: '127.0.0.1' };
  const run = start(['serve'], env);
  const base = await listening(run);
  const m = /Created user "admin" with password: (\S+)/.exec(run.out());
  assert.ok(m !== null, run.out());
  const health = await fetch(`${base}/api/health`);
  assert.equal(health.status, 200);
  const h = (await health.json()) as { status: string; database: { backend: string }; capture: { state: string } };
  assert.equal(h.status, 'ok');
  assert.equal(h.database.backend, 'sqlite');
  assert.equal(h.capture.state, 'unavailable');
  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: m[1] }),
  });
  assert.equal(login.status, 200);
  const { token } = (await login.json()) as { token: string };
  assert.equal((await fetch(`${base}/api/alerts`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  assert.equal((await fetch(`${base}/api/alerts`)).status, 401);
  run.child.kill('SIGTERM');
  assert.equal(await run.exit, 0, run.err());
  assert.match(run.out(), /stopped/);
  assert.doesNotMatch(run.err(), /error|fail/i);
  // The store is SQLite in WAL mode under the data directory, and the login was committed.
  const db = new Database(path.join(data, 'vigil.db'), { readonly: true });
  try {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const n = db.prepare("SELECT COUNT(*) AS n FROM user_activities WHERE action = 'auth.login'").get() as {
      n: number;
    };
    assert.equal(n.n, 1);
  } finally {
    db.close();
  }

  // A second start on the same directory keeps the admin and prints no password.
  const again = start(['serve'], env);
  await listening(again);
  assert.doesNotMatch(again.out(), /password/);
  again.child.kill('SIGINT');
  assert.equal(await again.exit, 0, again.err());
});

test('vigil serve: bad configuration stops start-up with a one-line reason', async () => {
  for (const [env, re] of [
    [{ VIGIL_PORT: 'abc' }, /VIGIL_PORT must be an integer/],
    [{ RATE_LIMIT_DEFAULT: '50 per fortnight' }, /RATE_LIMIT_DEFAULT/],
    [{ VIGIL_DATABASE_URL: 'mysql://x' }, /VIGIL_DATABASE_URL must start with/],
    [{ VIGIL_ADMIN_PASSWORD: 'short' }, /at least 8 characters/],
  ] as const) {
    const run = start(['serve'], { VIGIL_DATA_DIR: path.join(dir, 'bad'), ...env });
    assert.equal(await run.exit, 2, run.out() + run.err());
    assert.match(run.err(), re);
    assert.equal(run.err().trim().split('\n').length, 1, run.err());
  }
});

test('vigil config --server prints the effective server configuration with secrets redacted', async () => {
  const run = start(['config', '--server'], {
    VIGIL_DATABASE_URL: 'postgres://vigil:hunter2secret@db.example:5432/vigil',
    VIGIL_ADMIN_PASSWORD: 'admin-secret-pw',
    VIGIL_PORT: '4000',
  });
  assert.equal(await run.exit, 0, run.err());
  assert.doesNotMatch(run.out(), /hunter2secret|admin-secret-pw/);
  const cfg = JSON.parse(run.out()) as {
    port: number;
    databaseUrl: string;
    adminPassword: string;
    rateLimit: { defaults: string };
  };
  assert.equal(cfg.port, 4000);
  assert.equal(cfg.databaseUrl, 'postgres://vigil:[redacted]@db.example:5432/vigil');
  assert.equal(cfg.adminPassword, '[redacted]');
  assert.equal(cfg.rateLimit.defaults, '200 per 3600 seconds; 50 per 60 seconds');
  // Without --server the engine configuration comes first and the server's sits under "server".
  const all = start(['config'], { VIGIL_ADMIN_PASSWORD: 'admin-secret-pw' });
  assert.equal(await all.exit, 0, all.err());
  const both = JSON.parse(all.out()) as { server: { adminPassword: string }; checksumValidation: unknown };
  assert.equal(both.server.adminPassword, '[redacted]');
  assert.ok('checksumValidation' in both);
});
