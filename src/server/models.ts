/**
 * The server's models: which classifier and anomaly model new engines use (PCAP jobs, the live
 * sensor, /api/test/inject-packet, /api/analyze), and the model store trained models go to.
 *
 * - Configured models come from the environment as in `vigil analyze` (CLASSIFICATION_MODEL_PATH,
 *   ANOMALY_MODEL_PATH, default: the shipped classifier, no anomaly model).
 * - Models trained through the API are saved in the store under DATA_DIR/models (src/ml/store.ts);
 *   once a version of a role is active there, it replaces the configured model of that role.
 * - `changed()` is called after an activation or rollback: listeners ('change') reload, so new
 *   analyses use the new model; a running job keeps the model it started with.
 * - Loaded models are cached by directory, so scoring a single flow does not reload a file.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { resolveModelDir } from '../detect/classify/setup.js';
import { loadScoringModel } from '../detect/classify/load.js';
import type { LoadedModel } from '../detect/classify/stage.js';
import { ModelStore } from '../ml/store.js';
import type { ModelRole } from '../ml/store.js';
import { applyEnv, defaultConfig } from '../pipeline/config.js';
import type { EngineConfig } from '../pipeline/config.js';

type Env = Record<string, string | undefined>;

export interface ServerModelsOptions {
  /** The data directory; the store is DATA_DIR/models. */
  dataDir: string;
  env?: Env;
  /** Tests: adjust the engine configuration every engine starts from. */
  baseConfig?: () => EngineConfig;
}

export interface ActiveModelInfo {
  role: ModelRole;
  /** Where the model comes from: the store (trained through the API), the configuration, or none. */
  source: 'store' | 'config' | 'none';
  /** Model directory, or null for none. */
  dir: string | null;
  /** Store version (v1, v2, ...) when source is store. */
  version: string | null;
}

export class ServerModels extends EventEmitter<{ change: [] }> {
  readonly store: ModelStore;
  private readonly env: Env;
  private readonly base: () => EngineConfig;
  private readonly cache = new Map<string, LoadedModel>();

  constructor(opts: ServerModelsOptions) {
    super();
    this.env = opts.env ?? process.env;
    this.store = new ModelStore(path.join(opts.dataDir, 'models'));
    this.base =
      opts.baseConfig ??
      ((): EngineConfig => {
        const cfg = defaultConfig();
        applyEnv(cfg, this.env);
        // A relative file store directory (VIGIL_FILE_STORE_DIR) is under the data directory.
        cfg.fileStore.dir = path.resolve(opts.dataDir, cfg.fileStore.dir);
        return cfg;
      });
  }

  /** The engine configuration a new engine starts from: the base one with the active store models. */
  engineConfig(): EngineConfig {
    const cfg = this.base();
    const c = this.activeStoreDir('classifier');
    const a = this.activeStoreDir('anomaly');
    if (c !== null) cfg.ml.classifierModel = c;
    if (a !== null) cfg.ml.anomalyModel = a;
    return cfg;
  }

  /** Which model a role uses now. */
  active(role: ModelRole): ActiveModelInfo {
    const version = this.activeStoreVersion(role);
    if (version !== null) return { role, source: 'store', dir: this.store.versionDir(version), version };
    const cfg = this.base();
    const dir = cfg.ml.enabled
      ? resolveModelDir(role === 'classifier' ? cfg.ml.classifierModel : cfg.ml.anomalyModel)
      : null;
    return { role, source: dir === null ? 'none' : 'config', dir, version: null };
  }

  /** The loaded model of a role (cached), or null when the role has none. Throws ModelError/MlError. */
  loaded(role: ModelRole): LoadedModel | null {
    const { dir } = this.active(role);
    if (dir === null) return null;
    let lm = this.cache.get(dir);
    if (lm === undefined) {
      lm = loadScoringModel(dir, { liveFeatures: true });
      this.cache.set(dir, lm);
    }
    return lm;
  }

  /** Call after the store's active models changed: drops the cache and tells the listeners. */
  changed(): void {
    this.cache.clear();
    this.emit('change');
  }

  private activeStoreVersion(role: ModelRole): string | null {
    try {
      return this.store.history().active[role] ?? null;
    } catch {
      // A corrupt history.json: the configured models stay in use (the training routes report it).
      return null;
    }
  }

  private activeStoreDir(role: ModelRole): string | null {
    const v = this.activeStoreVersion(role);
    return v === null ? null : this.store.versionDir(v);
  }
}
