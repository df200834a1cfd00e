import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { StoreError } from './errors.js';
import { parseDatabaseUrl, storeConfigFromEnv } from './open.js';

test('the environment selects the backend: SQLite under VIGIL_DATA_DIR by default', () => {
  assert.deepEqual(storeConfigFromEnv({}), {
    backend: 'sqlite',
    file: path.join('data', 'vigil.db'),
    dedupWindowS: 300,
  });
  assert.deepEqual(storeConfigFromEnv({ VIGIL_DATA_DIR: '/var/lib/vigil', ALERT_DEDUP_WINDOW: '60' }), {
    backend: 'sqlite',
    file: '/var/lib/vigil/vigil.db',
    dedupWindowS: 60,
  });
  assert.deepEqual(
    storeConfigFromEnv({ VIGIL_DATABASE_URL: 'postgres://u:p@db:5432/vigil', ALERT_DEDUP_WINDOW: '0' }),
    {
      backend: 'postgres',
      url: 'postgres://u:p@db:5432/vigil',
      dedupWindowS: 0,
    },
  );
  assert.deepEqual(parseDatabaseUrl('postgresql://db/vigil'), { backend: 'postgres', url: 'postgresql://db/vigil' });
  assert.deepEqual(parseDatabaseUrl('sqlite:/tmp/x.db'), { backend: 'sqlite', file: '/tmp/x.db' });
  assert.deepEqual(parseDatabaseUrl('sqlite::memory:'), { backend: 'sqlite', file: ':memory:' });
});

test('bad values stop with VIGIL_STORE_CONFIG and never echo the URL (it may hold a password)', () => {
  for (const env of [
    { VIGIL_DATABASE_URL: 'mysql://root:secret@db/x' },
    { ALERT_DEDUP_WINDOW: '-1' },
    { ALERT_DEDUP_WINDOW: 'soon' },
  ]) {
    assert.throws(
      () => storeConfigFromEnv(env),
      (e: unknown) => e instanceof StoreError && e.code === 'VIGIL_STORE_CONFIG' && !e.message.includes('secret'),
    );
  }
});
