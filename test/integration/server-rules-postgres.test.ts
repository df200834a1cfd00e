/** Rule reload routes on a real PostgreSQL server (test/helpers/postgres.ts). */
import { openRepository } from '../../src/store/open.js';
import { withPostgres } from '../helpers/postgres.js';
import { rulesSuite } from './server-rules-suite.js';

withPostgres('rule routes on postgres', (server) => {
  rulesSuite({
    name: 'postgres',
    async newRepository() {
      const url = await server().createDatabase();
      return openRepository({ backend: 'postgres', url, dedupWindowS: 300 });
    },
  });
});
