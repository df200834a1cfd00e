/**
 * The API suite on a real PostgreSQL server started for this file (test/helpers/postgres.ts), a
 * fresh database per server. Without PostgreSQL binaries it is skipped locally, with the reason,
 * and fails under CI (which installs them: scripts/install-deps.sh), as the store tests do.
 */
import { openRepository } from '../../src/store/open.js';
import { withPostgres } from '../helpers/postgres.js';
import { serverSuite } from './server-suite.js';

withPostgres('API on postgres', (server) => {
  serverSuite({
    name: 'postgres',
    async newRepository() {
      const url = await server().createDatabase();
      return openRepository({ backend: 'postgres', url, dedupWindowS: 300 });
    },
  });
});
