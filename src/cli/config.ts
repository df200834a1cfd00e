/**
 * `vigil config`: print the effective engine configuration (after -c and --set) as JSON, with the
 * server's (`vigil serve`: defaults, --server-config file, environment) under `server`, secrets
 * redacted. `--server` prints only the server part.
 */
import { parseArgs } from 'node:util';
import { redactConfig } from '../server/config.js';
import { usageError } from './errors.js';
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
  if (parsed.values.server === true) {
    process.stdout.write(JSON.stringify(serverCfg, null, 2) + '\n');
    return 0;
  }
  const { server: _s, 'server-config': _sc, ...engineFlags } = parsed.values;
  const cfg = engineConfigFrom(engineFlags, (m) => void process.stderr.write(`vigil: warning: ${m}\n`));
  // Nothing secret lives in the engine configuration; the server's secrets are redacted above.
  process.stdout.write(JSON.stringify({ ...cfg, server: serverCfg }, null, 2) + '\n');
  return 0;
}
