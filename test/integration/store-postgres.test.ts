/**
 * The repository suite on a real PostgreSQL server, started for this file (test/helpers/postgres.ts)
 * with a fresh database per case. Without PostgreSQL binaries the suite is skipped locally and
 * fails under CI, which installs them (scripts/install-deps.sh).
 */
import { openRepository } from '../../src/store/open.js';
import { withPostgres } from '../helpers/postgres.js';
import { repositorySuite } from './store-suite.js';

withPostgres('store on postgres', (server) => {
  repositorySuite({
    name: 'postgres',
    async newDatabase() {
      const url = await server().createDatabase();
      return (opts = {}) =>
        openRepository(
          { backend: 'postgres', url, dedupWindowS: opts.dedupWindowS ?? 300 },
          opts.migrations !== undefined ? { migrations: opts.migrations } : {},
        );
    },
  });
});
