#!/usr/bin/env node
// Runs every compiled test (dist/**/*.test.js) with Node's built-in test runner.
// Optional arguments filter test files by substring, e.g. `node scripts/run-tests.mjs capture/`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');
const files = [];
const walk = (d) => {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') walk(p);
    } else if (e.name.endsWith('.test.js')) files.push(p);
  }
};
walk(dist);
const filters = process.argv.slice(2);
const selected = files.sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (selected.length === 0) {
  console.error('no test files found under dist/ (run npm run build first)');
  process.exit(1);
}
// Tests write to temporary directories only: a top-level entry the run adds to the checkout (say a
// server test falling back to the default ./data) fails the run.
const before = new Set(fs.readdirSync(root));
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...selected], { stdio: 'inherit', cwd: root });
const added = fs.readdirSync(root).filter((e) => !before.has(e));
if (added.length > 0) {
  console.error(`tests wrote into the checkout: ${added.join(', ')} (use a temporary directory)`);
  process.exit(1);
}
process.exit(r.status ?? 1);
