/** Behaviour detector settings: per-detector numeric thresholds with defaults from the registry. */
import { BEHAVIOR_DETECTORS } from './registry.js';

export interface BehaviorConfig {
  /** All behaviour detection on or off. */
  enabled: boolean;
  /** Detectors turned off by name. */
  disabled: string[];
  /** Thresholds by detector name and key (every key of the detector's defaults is present). */
  params: Record<string, Record<string, number>>;
}

export function defaultBehaviorConfig(): BehaviorConfig {
  const params: Record<string, Record<string, number>> = {};
  for (const d of BEHAVIOR_DETECTORS) params[d.name] = { ...d.defaults };
  return { enabled: true, disabled: [], params };
}

export class BehaviorConfigError extends Error {
  readonly code = 'VIGIL_CONFIG_INVALID';
}

/**
 * Apply `behavior.enabled`, `behavior.<name>.enabled` or `behavior.<name>.<key>`. Returns null when
 * applied, a warning for an unknown detector or key; throws BehaviorConfigError on a bad value.
 */
export function applyBehaviorSetting(cfg: BehaviorConfig, key: string, value: string): string | null {
  const bool = (): boolean => {
    const s = value.trim().toLowerCase();
    if (['yes', 'true', 'on', '1'].includes(s)) return true;
    if (['no', 'false', 'off', '0'].includes(s)) return false;
    throw new BehaviorConfigError(`invalid value for ${key}: "${value}" (expected yes/no)`);
  };
  if (key === 'behavior.enabled') {
    cfg.enabled = bool();
    return null;
  }
  const m = /^behavior\.([a-z0-9_-]+)\.([a-z0-9_-]+)$/.exec(key);
  if (m === null) return `unsupported configuration key ignored: ${key}`;
  const [, name, param] = m as unknown as [string, string, string];
  const params = cfg.params[name];
  if (params === undefined) return `unknown behaviour detector ignored: ${key}`;
  if (param === 'enabled') {
    const on = bool();
    cfg.disabled = cfg.disabled.filter((d) => d !== name);
    if (!on) cfg.disabled.push(name);
    return null;
  }
  if (!(param in params)) return `unknown behaviour setting ignored: ${key}`;
  const n = Number(value.trim());
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new BehaviorConfigError(`invalid value for ${key}: "${value}" (expected a non-negative number)`);
  params[param] = n;
  return null;
}
