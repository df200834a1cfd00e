/** Rule reload routes on SQLite. */
import fs from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import { openRepository } from '../../src/store/open.js';
import { tempDir } from '../helpers/paths.js';
import { rulesSuite } from './server-rules-suite.js';

const dir = tempDir('vigil-rules-db-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

rulesSuite({
  name: 'sqlite',
  newRepository: () => openRepository({ backend: 'sqlite', file: path.join(dir, 'vigil.db'), dedupWindowS: 300 }),
});
