/** Paths tests rely on. `../shared` sits beside the repository (read-only in CI). */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';

/** Repository root (tests run from dist/, three levels below it at most). */
export const REPO_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
})();

/** The shared evaluation data (corpus, suricata-verify, datasets, ...). */
export const SHARED_DIR = process.env['VIGIL_SHARED_DIR'] ?? path.resolve(REPO_ROOT, '..', 'shared');

/** Fixtures committed with the repository. */
export const FIXTURES_DIR = path.join(REPO_ROOT, 'test', 'fixtures');

/** The built CLI entry. */
export const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

/** A fresh temporary directory (tests never write into the repository or ../shared). */
export function tempDir(prefix = 'vigil-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Every file under `dir` (recursively) whose name matches `re`, sorted. */
export function findFiles(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (re.test(e.name)) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}
