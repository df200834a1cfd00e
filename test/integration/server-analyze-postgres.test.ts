/**
 * The analyze routes on a real PostgreSQL server started for this file (test/helpers/postgres.ts).
 * Skipped locally without PostgreSQL binaries, with the reason; under CI (which installs them) it runs.
 */
import { openRepository } from '../../src/store/open.js';
import { withPostgres } from '../helpers/postgres.js';
import { analyzeSuite } from './server-analyze-suite.js';

withPostgres('analyze routes on postgres', (server) => {
  analyzeSuite({
    name: 'postgres',
    async newRepository() {
      const url = await server().createDatabase();
      return openRepository({ backend: 'postgres', url, dedupWindowS: 300 });
    },
  });
});
