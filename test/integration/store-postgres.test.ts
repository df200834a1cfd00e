/**
 * The repository suite on a real PostgreSQL server, started for this file (test/helpers/postgres.ts)
 * with a fresh database per case. Without PostgreSQL binaries the suite is skipped locally and
 * fails under CI, which installs them (scripts/install-deps.sh).
 */
import { after, before, test } from 'node:test';
import { openRepository } from '../../src/store/open.js';
import type { PostgresServer } from '../helpers/postgres.js';
import { postgresAvailability, startPostgres } from '../helpers/postgres.js';
import { repositorySuite } from './store-suite.js';

const avail = postgresAvailability();
if (!avail.ok && process.env['CI'] === undefined) {
  test('store on postgres', { skip: avail.reason }, () => undefined);
} else {
  let server: PostgresServer | null = null;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  repositorySuite({
    name: 'postgres',
    async newDatabase() {
      const url = await server!.createDatabase();
      return (opts = {}) =>
        openRepository(
          { backend: 'postgres', url, dedupWindowS: opts.dedupWindowS ?? 300 },
          opts.migrations !== undefined ? { migrations: opts.migrations } : {},
        );
    },
  });
}
