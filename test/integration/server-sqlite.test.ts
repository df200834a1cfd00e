/** The API suite on SQLite (a fresh database file per server). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { openRepository } from '../../src/store/open.js';
import { serverSuite } from './server-suite.js';

let dbs = 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-server-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

serverSuite({
  name: 'sqlite',
  newRepository: () =>
    openRepository({ backend: 'sqlite', file: path.join(dir, `db-${++dbs}`, 'vigil.db'), dedupWindowS: 300 }),
});
