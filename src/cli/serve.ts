/**
 * `vigil serve`: the API server over the store (SQLite under VIGIL_DATA_DIR, or PostgreSQL with
 * VIGIL_DATABASE_URL). The first start creates the `admin` user and prints its password once.
 * SIGTERM / SIGINT close the server: no new connections, in-flight requests finish, pending
 * writes are flushed and the database closed; a second signal exits at once.
 */
import { parseArgs } from 'node:util';
import { buildServer } from '../server/app.js';
import type { ServerConfig } from '../server/config.js';
import { ConfigError, loadServerConfig } from '../server/config.js';
import { serverEnvSettings } from '../server/env-settings.js';
import { serveExtensions } from '../server/extensions.js';
import { RulesError } from '../server/rules.js';
import { StoreError } from '../store/errors.js';
import { CliError, usageError } from './errors.js';

const USAGE = `usage: vigil serve [--port N] [--host ADDR] [--data-dir DIR] [--server-config FILE]

Environment (see docs/server.md): VIGIL_PORT (or PORT), VIGIL_HOST, VIGIL_DATA_DIR,
VIGIL_DATABASE_URL, VIGIL_ADMIN_PASSWORD, VIGIL_CORS_ORIGINS, RATE_LIMIT_ENABLED, LOG_LEVEL,
CAPTURE_ENABLED, CAPTURE_INTERFACE, PCAP_MAX_UPLOAD_MB, WEBSOCKET_BROADCAST_INTERVAL, VIGIL_TEST_ROUTES,
VIGIL_FILE_STORE (and _DIR, _FORCE, _MAX_SIZE), ...
`;

export interface ServeArgs {
  port?: number;
  host?: string;
  dataDir?: string;
  serverConfig?: string;
  help: boolean;
}

/** Flags shared by `vigil serve` and `vigil config`. */
export function parseServeArgs(
  argv: string[],
  extra: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {},
): { args: ServeArgs; rest: Record<string, unknown> } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        'server-config': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...extra,
      },
    });
  } catch (e) {
    throw usageError((e as Error).message);
  }
  const v = parsed.values as Record<string, unknown>;
  const args: ServeArgs = { help: v['help'] === true };
  if (typeof v['port'] === 'string') {
    if (!/^\d+$/.test(v['port']) || Number(v['port']) > 65_535)
      throw usageError(`--port must be 0..65535, got "${v['port']}"`);
    args.port = Number(v['port']);
  }
  if (typeof v['host'] === 'string') args.host = v['host'];
  if (typeof v['data-dir'] === 'string') args.dataDir = v['data-dir'];
  if (typeof v['server-config'] === 'string') args.serverConfig = v['server-config'];
  return { args, rest: v };
}

export function serverConfigFrom(args: ServeArgs, env: Record<string, string | undefined> = process.env): ServerConfig {
  try {
    return loadServerConfig({
      env,
      file: args.serverConfig ?? null,
      overrides: {
        ...(args.port !== undefined ? { port: args.port } : {}),
        ...(args.host !== undefined ? { host: args.host } : {}),
        ...(args.dataDir !== undefined ? { dataDir: args.dataDir } : {}),
      },
    });
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError('VIGIL_CLI_CONFIG', e.message, 2);
    throw e;
  }
}

export async function serveCommand(argv: string[]): Promise<number> {
  const { args } = parseServeArgs(argv);
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const cfg = serverConfigFrom(args);
  let ext;
  try {
    // The environment-only settings first: the engine ones are otherwise read only when an engine starts.
    serverEnvSettings();
    // PCAP jobs, test routes (when enabled), live capture and Socket.IO.
    ext = serveExtensions(cfg);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError('VIGIL_CLI_CONFIG', e.message, 2);
    if (e instanceof RulesError) throw new CliError('VIGIL_CLI_CONFIG', `rules: ${e.message}`, 2);
    throw e;
  }
  let app;
  try {
    app = await buildServer({
      config: cfg,
      extensions: ext.extensions,
      captureStatus: ext.captureStatus,
      onAdminCreated: (user, password, generated) => {
        process.stdout.write(
          generated
            ? `\nCreated user "${user}" with password: ${password}\n(shown only now; change it with POST /api/auth/password)\n\n`
            : `\nCreated user "${user}" with the password from VIGIL_ADMIN_PASSWORD\n\n`,
        );
      },
    });
  } catch (e) {
    if (e instanceof StoreError) throw new CliError('VIGIL_CLI_CONFIG', e.message, 1);
    throw e;
  }

  let closing: Promise<void> | null = null;
  const done = new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      if (closing !== null) {
        process.stderr.write(`vigil: ${signal} again, exiting without waiting\n`);
        process.exit(1);
      }
      app.log.info({ signal }, 'shutting down');
      closing = app.close().then(
        () => {
          process.stdout.write('vigil serve: stopped\n');
          resolve(0);
        },
        (e: unknown) => {
          process.stderr.write(`vigil: shutdown failed: ${e instanceof Error ? e.message : String(e)}\n`);
          resolve(1);
        },
      );
    };
    // The first signal closes gracefully; a second one (stop() sees closing set) exits at once.
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    // SIGHUP reloads the rules, as Suricata's rule reload does; a broken set is refused and logged.
    process.on('SIGHUP', () => {
      try {
        const info = ext.rules.reload();
        app.log.info({ version: info.version, loaded: info.loaded, skipped: info.skipped }, 'rules reloaded');
      } catch (e) {
        app.log.error({ err: (e as Error).message }, 'rule reload refused; the previous rules stay in use');
      }
    });
  });

  try {
    const address = await app.listen({ port: cfg.port, host: cfg.host });
    process.stdout.write(`vigil serve: listening on ${address} (${app.vigil.repo.backend})\n`);
  } catch (e) {
    await app.close();
    throw new CliError('VIGIL_CLI_CONFIG', `cannot listen on ${cfg.host}:${cfg.port}: ${(e as Error).message}`, 1);
  }
  return done;
}
