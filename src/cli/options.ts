/** Engine options shared by subcommands: -k, --set KEY=VALUE, -c suricata.yaml. */
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, applyEnv, applySetting, applyYaml, defaultConfig } from '../pipeline/config.js';
import type { EngineConfig } from '../pipeline/config.js';
import { CliError, usageError } from './errors.js';

export interface EngineOptionValues {
  k?: string;
  set?: string[];
  config?: string;
}

/** Build the engine configuration; warnings (unsupported keys) go to `warn`. */
export function engineConfigFrom(v: EngineOptionValues, warn: (msg: string) => void): EngineConfig {
  const cfg = defaultConfig();
  try {
    for (const w of applyEnv(cfg, process.env)) warn(w);
    if (v.config !== undefined) {
      let text: string;
      try {
        text = fs.readFileSync(v.config, 'utf8');
      } catch (e) {
        throw new CliError(
          'VIGIL_CLI_CONFIG',
          `cannot read configuration file ${v.config}: ${(e as Error).message}`,
          1,
        );
      }
      let doc: unknown;
      try {
        // Suricata's files start with a "%YAML 1.1" directive and use YAML 1.1 booleans (yes/no).
        doc = parseYaml(text, { version: '1.1' });
      } catch (e) {
        throw new CliError(
          'VIGIL_CLI_CONFIG',
          `invalid YAML in ${v.config}: ${(e as Error).message.split('\n')[0]}`,
          1,
        );
      }
      for (const w of applyYaml(cfg, doc)) warn(w);
    }
    for (const kv of v.set ?? []) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw usageError(`--set expects KEY=VALUE, got "${kv}"`);
      const w = applySetting(cfg, kv.slice(0, eq).trim(), kv.slice(eq + 1));
      if (w) warn(w);
    }
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError('VIGIL_CLI_CONFIG', e.message, 2);
    throw e;
  }
  if (v.k !== undefined) {
    if (v.k === 'all') cfg.checksumValidation = true;
    else if (v.k === 'none') cfg.checksumValidation = false;
    else throw usageError(`-k expects "none" or "all", got "${v.k}"`);
  }
  return cfg;
}
