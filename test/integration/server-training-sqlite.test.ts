/** The training routes on SQLite, a fresh database file per suite. */
import fs from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import { openRepository } from '../../src/store/open.js';
import { tempDir } from '../helpers/paths.js';
import { trainingSuite } from './server-training-suite.js';

const dir = tempDir('vigil-training-db-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
trainingSuite({
  name: 'sqlite',
  newRepository: () =>
    openRepository({ backend: 'sqlite', file: path.join(dir, `vigil-${++n}.db`), dedupWindowS: 300 }),
});
