/**
 * Server settings that come only from the environment, beside ServerConfig (config.ts): the
 * extensions' (extensionSettingsFromEnv: WEBSOCKET_BROADCAST_INTERVAL, WEBSOCKET_MAX_ALERTS_PER_S,
 * PCAP_JOB_CONCURRENCY, VIGIL_TEST_ROUTES) and the engine's model settings (CLASSIFICATION_*,
 * ANOMALY_*: src/pipeline/config.ts ENV_SETTINGS), which every engine the server starts reads
 * (src/server/models.ts). `vigil config` prints them and `vigil serve` checks them at start, so a
 * bad value gives the same one-line ConfigError in both.
 */
import { ConfigError as EngineConfigError, applyEnv, defaultConfig } from '../pipeline/config.js';
import type { EngineConfig } from '../pipeline/config.js';
import { ConfigError } from './config.js';
import { extensionSettingsFromEnv } from './extensions.js';
import type { ExtensionSettings } from './extensions.js';

export interface ServerEnvSettings {
  extensions: ExtensionSettings;
  /**
   * The models new engines use unless one trained through the API is active in the model store
   * (DATA_DIR/models), which `vigil config` does not open.
   */
  ml: EngineConfig['ml'];
  /** VIGIL_FILE_STORE*: a relative `dir` is under the data directory (src/server/models.ts). */
  fileStore: EngineConfig['fileStore'];
}

/** Throws ConfigError with a one-line reason naming the variable. */
export function serverEnvSettings(env: Record<string, string | undefined> = process.env): ServerEnvSettings {
  const extensions = extensionSettingsFromEnv(env);
  const cfg = defaultConfig();
  try {
    // Every ENV_SETTINGS variable is checked, as the server's engines apply them all (a bad
    // WHITELIST_IPS would otherwise fail each PCAP job); only `ml` is reported.
    applyEnv(cfg, env);
  } catch (e) {
    if (e instanceof EngineConfigError) throw new ConfigError(e.message);
    throw e;
  }
  return { extensions, ml: cfg.ml, fileStore: cfg.fileStore };
}
