/** Reading a numeric environment variable with its range, for the server's env-only settings. */
import { ConfigError } from './config.js';

/** `name` from `env` (default when unset or empty); ConfigError naming the variable when out of range. */
export function envNumber(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  dflt: number,
  min: number,
  max: number,
  int: boolean,
): number {
  const v = env[name];
  if (v === undefined || v.trim() === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n)))
    throw new ConfigError(`${name} must be ${int ? 'an integer' : 'a number'} from ${min} to ${max}, got "${v}"`);
  return n;
}
