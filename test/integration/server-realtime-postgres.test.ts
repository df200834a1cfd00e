/**
 * The serve extensions (PCAP routes, test routes, Socket.IO) on a real PostgreSQL server started
 * for this file (test/helpers/postgres.ts). Skipped locally without PostgreSQL binaries, with the
 * reason; under CI (which installs them) it runs.
 */
import { openRepository } from '../../src/store/open.js';
import { withPostgres } from '../helpers/postgres.js';
import { realtimeSuite } from './server-realtime-suite.js';

withPostgres('serve extensions on postgres', (server) => {
  realtimeSuite({
    name: 'postgres',
    async newRepository() {
      const url = await server().createDatabase();
      return openRepository({ backend: 'postgres', url, dedupWindowS: 300 });
    },
  });
});
