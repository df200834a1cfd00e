/**
 * The model store (docs/ml.md, "Model store"): a directory of versioned training runs.
 *
 * ```
 * STORE/history.json     runs, the active model per role, activation stacks, an event log
 * STORE/v1/model.json    a ModelFile
 * STORE/v1/metrics.json  the run's test metrics
 * STORE/v2/...
 * ```
 *
 * - Every file is written to a temporary name and renamed over the target (atomic on POSIX), and a
 *   version directory is built under a temporary name and renamed into place, so a crash leaves
 *   either the old or the new state, never a half-written model.
 * - history.json changes under a lock file (O_EXCL), so two trainings saving at once get distinct
 *   versions and neither update is lost.
 * - Roles: `classifier` (supervised types) and `anomaly` (isolation_forest) each have an active
 *   version. Activation loads the version through the scorer (loadScoringModel); a corrupt or
 *   incompatible model is refused with MlError VIGIL_ML_MODEL_REFUSED and the active one stays.
 *   Rollback re-activates the version active before the current one (validated the same way).
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadScoringModel } from '../detect/classify/load.js';
import type { LoadModelOptions } from '../detect/classify/load.js';
import { ModelError } from '../detect/classify/model.js';
import type { ModelFile, ModelType } from '../detect/classify/model.js';
import type { LoadedModel } from '../detect/classify/stage.js';
import { MlError } from './errors.js';

export const STORE_FORMAT = 'vigil-model-store';
export const HISTORY_FILE = 'history.json';
const LOCK_FILE = 'history.lock';
/** A lock older than this is left over from a crashed process and is taken over. */
const LOCK_STALE_MS = 60_000;
/** How long to wait for another process's lock before giving up. */
const LOCK_WAIT_MS = 10_000;

export type ModelRole = 'classifier' | 'anomaly';

export const roleOf = (type: ModelType): ModelRole => (type === 'isolation_forest' ? 'anomaly' : 'classifier');

export interface RunRecord {
  version: string;
  /** ISO 8601 time the run was saved. */
  created: string;
  type: ModelType;
  role: ModelRole;
  /** Data source, rows, classes and headline metrics, copied from the training record. */
  data?: string;
  rows?: number;
  classes?: string[];
  metrics?: { accuracy?: number; macro_f1?: number; weighted_f1?: number; roc_auc?: number | null };
  note?: string;
}

export interface StoreEvent {
  at: string;
  action: 'save' | 'activate' | 'rollback';
  version: string;
  role: ModelRole;
}

export interface History {
  format: typeof STORE_FORMAT;
  version: 1;
  runs: RunRecord[];
  active: Record<ModelRole, string | null>;
  /** Versions activated per role, oldest first; the last is the active one. */
  stacks: Record<ModelRole, string[]>;
  events: StoreEvent[];
}

const emptyHistory = (): History => ({
  format: STORE_FORMAT,
  version: 1,
  runs: [],
  active: { classifier: null, anomaly: null },
  stacks: { classifier: [], anomaly: [] },
  events: [],
});

/** Write `data` to `file` atomically: a temporary file in the same directory, fsync, rename. */
export function writeFileAtomic(file: string, data: string): void {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
  );
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Write a model directory (model.json + metrics.json), each file atomically. */
export function writeModelDir(dir: string, file: ModelFile, metrics: unknown): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    writeFileAtomic(path.join(dir, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
    writeFileAtomic(path.join(dir, 'model.json'), JSON.stringify(file) + '\n');
  } catch (e) {
    throw new MlError('VIGIL_ML_STORE_INVALID', `cannot write the model to ${dir}: ${(e as Error).message}`);
  }
}

const sleepMs = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

export class ModelStore {
  private readonly loadOpts: LoadModelOptions;

  /**
   * Open (and create when missing) a store. `loadOpts` are the checks activation applies; by
   * default the model must be able to score live flows (`liveFeatures`).
   */
  constructor(
    readonly dir: string,
    loadOpts: LoadModelOptions = { liveFeatures: true },
  ) {
    this.loadOpts = loadOpts;
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new MlError('VIGIL_ML_STORE_INVALID', `cannot create the model store ${dir}: ${(e as Error).message}`);
    }
  }

  versionDir(version: string): string {
    if (!/^v[1-9]\d*$/.test(version))
      throw new MlError('VIGIL_ML_STORE_INVALID', `"${version}" is not a model version (v1, v2, ...)`);
    return path.join(this.dir, version);
  }

  /** The store's history (an empty one for a new store). Throws when history.json is corrupt. */
  history(): History {
    const file = path.join(this.dir, HISTORY_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyHistory();
      throw new MlError('VIGIL_ML_STORE_INVALID', `cannot read ${file}: ${(e as Error).message}`);
    }
    let h: Partial<History>;
    try {
      h = JSON.parse(text) as Partial<History>;
    } catch (e) {
      throw new MlError(
        'VIGIL_ML_STORE_INVALID',
        `${file} is corrupt (${(e as Error).message}); the model versions beside it are intact`,
      );
    }
    if (h === null || typeof h !== 'object' || h.format !== STORE_FORMAT || !Array.isArray(h.runs))
      throw new MlError('VIGIL_ML_STORE_INVALID', `${file} is not a Vigil model store history`);
    const e = emptyHistory();
    return {
      format: STORE_FORMAT,
      version: 1,
      runs: h.runs,
      active: { ...e.active, ...(h.active ?? {}) },
      stacks: { ...e.stacks, ...(h.stacks ?? {}) },
      events: Array.isArray(h.events) ? h.events : [],
    };
  }

  /** Run `fn` on the history under the lock and write the result atomically. */
  private update<T>(fn: (h: History) => T): T {
    const lock = path.join(this.dir, LOCK_FILE);
    const start = Date.now();
    for (;;) {
      try {
        fs.closeSync(fs.openSync(lock, 'wx'));
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new MlError('VIGIL_ML_STORE_INVALID', `cannot lock ${this.dir}: ${(e as Error).message}`);
        const st = fs.statSync(lock, { throwIfNoEntry: false });
        if (st === undefined) continue; // released meanwhile
        const age = Date.now() - st.mtimeMs;
        if (age > LOCK_STALE_MS) {
          fs.rmSync(lock, { force: true });
          continue;
        }
        if (Date.now() - start > LOCK_WAIT_MS)
          throw new MlError(
            'VIGIL_ML_STORE_INVALID',
            `the model store ${this.dir} is locked by another process (${lock})`,
          );
        sleepMs(25);
      }
    }
    try {
      const h = this.history();
      const out = fn(h);
      writeFileAtomic(path.join(this.dir, HISTORY_FILE), JSON.stringify(h, null, 2) + '\n');
      return out;
    } finally {
      fs.rmSync(lock, { force: true });
    }
  }

  /** Save a training run as the next version (not activated). */
  save(file: ModelFile, metrics: unknown, record: Partial<RunRecord> = {}): RunRecord {
    // Build the directory under a temporary name first, so a version directory is always complete.
    const tmp = path.join(this.dir, `.new-${process.pid}-${Math.random().toString(36).slice(2)}`);
    try {
      writeModelDir(tmp, file, metrics);
      return this.update((h) => {
        let n = 0;
        for (const r of h.runs) n = Math.max(n, Number(r.version.slice(1)) || 0);
        for (const name of fs.readdirSync(this.dir))
          if (/^v[1-9]\d*$/.test(name)) n = Math.max(n, Number(name.slice(1)));
        const version = `v${n + 1}`;
        fs.renameSync(tmp, path.join(this.dir, version));
        const rec: RunRecord = {
          ...record,
          version,
          created: new Date().toISOString(),
          type: file.type,
          role: roleOf(file.type),
        };
        h.runs.push(rec);
        h.events.push({ at: rec.created, action: 'save', version, role: rec.role });
        return rec;
      });
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** Load a version through its scorer; MlError VIGIL_ML_MODEL_REFUSED with the reason when it cannot be used. */
  load(version: string): LoadedModel {
    const dir = this.versionDir(version);
    if (!fs.existsSync(dir)) throw new MlError('VIGIL_ML_MODEL_REFUSED', `no model version ${version} in ${this.dir}`);
    try {
      return loadScoringModel(dir, this.loadOpts);
    } catch (e) {
      if (e instanceof ModelError)
        throw new MlError('VIGIL_ML_MODEL_REFUSED', `model ${version} refused: ${e.message}`);
      throw e;
    }
  }

  /**
   * Make `version` the active model of its role. It is loaded first; when that fails the active
   * model is unchanged and the MlError says why.
   */
  activate(version: string): LoadedModel {
    const lm = this.load(version);
    const role = roleOf(lm.file.type);
    this.update((h) => {
      if (!h.runs.some((r) => r.version === version)) {
        // A version directory copied in by hand: record it so history stays complete.
        h.runs.push({
          version,
          created: new Date().toISOString(),
          type: lm.file.type,
          role,
          note: 'not saved by this store',
        });
      }
      if (h.active[role] === version) return;
      h.active[role] = version;
      h.stacks[role].push(version);
      h.events.push({ at: new Date().toISOString(), action: 'activate', version, role });
    });
    return lm;
  }

  /**
   * Re-activate the version that was active before the current one of `role`. Refused (active
   * unchanged) when there is none or it no longer loads.
   */
  rollback(role: ModelRole = 'classifier'): LoadedModel {
    const h = this.history();
    const stack = h.stacks[role];
    if (stack.length < 2) throw new MlError('VIGIL_ML_MODEL_REFUSED', `no earlier ${role} model to roll back to`);
    const prev = stack[stack.length - 2]!;
    const lm = this.load(prev);
    this.update((h2) => {
      const s = h2.stacks[role];
      if (s.length >= 2 && s[s.length - 2] === prev) s.pop();
      h2.active[role] = prev;
      h2.events.push({ at: new Date().toISOString(), action: 'rollback', version: prev, role });
    });
    return lm;
  }

  /** The active model of a role, loaded; null when none is active. */
  loadActive(role: ModelRole = 'classifier'): LoadedModel | null {
    const v = this.history().active[role];
    return v === null ? null : this.load(v);
  }

  /** Directory of the active model of a role, or null. */
  activeDir(role: ModelRole = 'classifier'): string | null {
    const v = this.history().active[role];
    return v === null ? null : this.versionDir(v);
  }
}

/**
 * A model directory for `--model PATH`: PATH itself when it holds model.json, else the active
 * classifier (then anomaly) version when PATH is a model store.
 */
export function resolveModelDir(p: string): string {
  if (fs.existsSync(path.join(p, 'model.json'))) return p;
  if (fs.existsSync(path.join(p, HISTORY_FILE))) {
    const store = new ModelStore(p);
    const dir = store.activeDir('classifier') ?? store.activeDir('anomaly');
    if (dir === null) throw new MlError('VIGIL_ML_STORE_INVALID', `the model store ${p} has no active model`);
    return dir;
  }
  return p;
}
