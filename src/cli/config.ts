/**
 * `vigil config`: print the effective engine configuration (after -c and --set) as JSON, with the
 * server's (`vigil serve`: defaults, --server-config file, environment) under `server`, secrets
 * redacted. `--server` prints only the server part. The server part also holds the settings read
 * only from the environment (src/server/env-settings.ts): `extensions` and `ml`. A bad value stops
 * it with the one-line reason and exit status `vigil serve` gives. The output is always JSON;
 * `--json` is accepted for scripts that ask for it.
 */
import { parseArgs } from 'node:util';
import { ConfigError, redactConfig } from '../server/config.js';
import { serverEnvSettings } from '../server/env-settings.js';
import type { ServerEnvSettings } from '../server/env-settings.js';
import { CliError, usageError } from './errors.js';
import { engineConfigFrom } from './options.js';
import { serverConfigFrom } from './serve.js';

export function configCommand(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        k: { type: 'string', short: 'k' },
        set: { type: 'string', multiple: true },
        config: { type: 'string', short: 'c' },
        server: { type: 'boolean' },
        'server-config': { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw usageError((e as Error).message);
  }
  const serverCfg = redactConfig(
    serverConfigFrom(
      parsed.values['server-config'] !== undefined
        ? { serverConfig: parsed.values['server-config'], help: false }
        : { help: false },
    ),
  );
  let envSettings: ServerEnvSettings;
  try {
    envSettings = serverEnvSettings();
  } catch (e) {
    // As `vigil serve` reports it (src/cli/serve.ts).
    if (e instanceof ConfigError) throw new CliError('VIGIL_CLI_CONFIG', e.message, 2);
    throw e;
  }
  // Nothing secret among them (intervals, limits, model paths).
  const server = { ...serverCfg, ...envSettings };
  if (parsed.values.server === true) {
    process.stdout.write(JSON.stringify(server, null, 2) + '\n');
    return 0;
  }
  const { server: _s, 'server-config': _sc, json: _j, ...engineFlags } = parsed.values;
  const cfg = engineConfigFrom(engineFlags, (m) => void process.stderr.write(`vigil: warning: ${m}\n`));
  // Nothing secret lives in the engine configuration; the server's secrets are redacted above.
  process.stdout.write(JSON.stringify({ ...cfg, server }, null, 2) + '\n');
  return 0;
}
