/** The repository suite on SQLite (a fresh database file per case). */
import path from 'node:path';
import { openRepository } from '../../src/store/open.js';
import { tempDir } from '../helpers/paths.js';
import { repositorySuite } from './store-suite.js';

let dbs = 0;
const dir = tempDir('vigil-store-');

repositorySuite({
  name: 'sqlite',
  newDatabase() {
    const file = path.join(dir, `db-${++dbs}`, 'vigil.db');
    return Promise.resolve((opts = {}) =>
      openRepository(
        { backend: 'sqlite', file, dedupWindowS: opts.dedupWindowS ?? 300 },
        opts.migrations !== undefined ? { migrations: opts.migrations } : {},
      ),
    );
  },
});
