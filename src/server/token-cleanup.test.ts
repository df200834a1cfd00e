import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOKEN_CLEANUP_INTERVAL_MS, TokenCleanup } from './token-cleanup.js';

/** A repository that records sweeps; `fail` makes the next one reject. */
function fakeRepo(): { calls: number[]; fail: boolean; deleteExpiredTokens(nowUs?: number): Promise<number> } {
  return {
    calls: [],
    fail: false,
    deleteExpiredTokens(nowUs?: number) {
      this.calls.push(nowUs ?? -1);
      if (this.fail) {
        this.fail = false;
        return Promise.reject(new Error('database gone'));
      }
      return Promise.resolve(2);
    },
  };
}

type Log = ConstructorParameters<typeof TokenCleanup>[1];

/** A logger keeping the messages (pino's call shape: object, message). */
function fakeLog(): { info: string[]; error: string[]; log: Log } {
  const info: string[] = [];
  const error: string[] = [];
  const log = {
    info: (_o: unknown, msg: string) => void info.push(msg),
    error: (_o: unknown, msg: string) => void error.push(msg),
  };
  return { info, error, log: log as unknown as Log };
}

test('sweeps on start and then every interval, with the current time; stop ends it', async () => {
  mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_700_000_000_000 });
  try {
    const repo = fakeRepo();
    const l = fakeLog();
    const c = new TokenCleanup(repo, l.log);
    await c.start();
    assert.deepEqual(repo.calls, [1_700_000_000_000_000]);
    assert.deepEqual(l.info, ['expired sessions deleted']);
    mock.timers.tick(TOKEN_CLEANUP_INTERVAL_MS - 1);
    assert.equal(repo.calls.length, 1);
    mock.timers.tick(1);
    assert.equal(repo.calls.length, 2);
    assert.equal(repo.calls[1], (1_700_000_000_000 + TOKEN_CLEANUP_INTERVAL_MS) * 1000);
    await c.stop();
    mock.timers.tick(3 * TOKEN_CLEANUP_INTERVAL_MS);
    assert.equal(repo.calls.length, 2, 'no sweep after stop');
    await c.start();
    assert.equal(repo.calls.length, 2, 'a stopped cleanup does not start again');
  } finally {
    mock.timers.reset();
  }
});

test('a failing sweep is logged and the next one runs; overlapping sweeps are shared', async () => {
  const repo = fakeRepo();
  const l = fakeLog();
  const c = new TokenCleanup(repo, l.log, 1000);
  repo.fail = true;
  assert.equal(await c.sweep(), 0);
  assert.deepEqual(l.error, ['deleting expired sessions failed']);
  const a = c.sweep();
  const b = c.sweep();
  assert.equal(a, b);
  assert.equal(await a, 2);
  assert.equal(repo.calls.length, 2);
  await c.stop();
});
