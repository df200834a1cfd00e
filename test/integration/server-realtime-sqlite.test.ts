/** The serve extensions (PCAP routes, test routes, Socket.IO) on SQLite, a fresh database file. */
import fs from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import { openRepository } from '../../src/store/open.js';
import { tempDir } from '../helpers/paths.js';
import { realtimeSuite } from './server-realtime-suite.js';

const dir = tempDir('vigil-serve-ext-db-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

realtimeSuite({
  name: 'sqlite',
  newRepository: () => openRepository({ backend: 'sqlite', file: path.join(dir, 'vigil.db'), dedupWindowS: 300 }),
});
