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

/** Directories made by tempDir in this process, removed when it exits. */
const madeDirs: string[] = [];

/**
 * A fresh temporary directory (tests never write into the repository or ../shared). It is removed
 * when the test process exits (node --test runs each file in its own process), so a test that
 * keeps its output for inspection or fails half-way leaves nothing in /tmp.
 */
export function tempDir(prefix = 'vigil-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (madeDirs.push(dir) === 1) process.on('exit', removeTempDirs);
  return dir;
}

function removeTempDirs(): void {
  // 'exit' handlers must be synchronous; force: a test may have removed its directory already.
  for (const d of madeDirs.splice(0)) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch (e) {
      // E.g. a directory a test made read-only: say so, as nothing else can be done at exit.
      process.stderr.write(`could not remove ${d}: ${(e as Error).message}\n`);
    }
  }
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
