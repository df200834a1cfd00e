/** The analyze routes on SQLite (a fresh database file). */
import fs from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import { openRepository } from '../../src/store/open.js';
import { tempDir } from '../helpers/paths.js';
import { analyzeSuite } from './server-analyze-suite.js';

const dir = tempDir('vigil-analyze-db-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

analyzeSuite({
  name: 'sqlite',
  newRepository: () => openRepository({ backend: 'sqlite', file: path.join(dir, 'vigil.db'), dedupWindowS: 300 }),
});
