/**
 * A throwaway PostgreSQL server for tests and benches: initdb into a temporary directory, started
 * with pg_ctl on a free loopback port (its unix socket in the same directory, so nothing outside
 * it is touched), stopped and deleted by `stop()` — or at process exit if a test dies first.
 *
 *   const pg = await startPostgres();          // throws PostgresUnavailable when no binaries
 *   const url = await pg.createDatabase();     // a fresh database per suite
 *   ...
 *   await pg.stop();
 *
 * Binaries: $PG_BIN, else the newest /usr/lib/postgresql/<v>/bin (Debian's postgresql package,
 * installed by scripts/install-deps.sh), else initdb on PATH. initdb refuses to run as root, so
 * under root the server runs as the `postgres` system user (or `nobody`) via spawn's uid/gid.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { after, before, test } from 'node:test';

export class PostgresUnavailable extends Error {}

export interface PostgresServer {
  readonly port: number;
  readonly dir: string;
  /** URL of a database on this server (`postgres` when none is named). */
  url(database?: string): string;
  /** Create a new empty database and return its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Keep PostgreSQL's durability settings (fsync, full_page_writes). Off by default: tests do not
   * need crash safety and run several times faster without it. Benches measuring writes set it.
   */
  durable?: boolean;
  /** Extra server settings (`-c name=value`). */
  settings?: Record<string, string>;
}

/** Is a PostgreSQL server available for tests (binaries found)? The reason when not. */
export function postgresAvailability(): { ok: true; bin: string } | { ok: false; reason: string } {
  const bin = findBin();
  return bin === null
    ? { ok: false, reason: 'PostgreSQL binaries not found (apt-get install postgresql, or set PG_BIN)' }
    : { ok: true, bin };
}

function findBin(): string | null {
  const env = process.env['PG_BIN'];
  if (env !== undefined && fs.existsSync(path.join(env, 'initdb'))) return env;
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    const versions = fs
      .readdirSync(root)
      .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return path.join(root, versions[0], 'bin');
  }
  for (const d of (process.env['PATH'] ?? '').split(path.delimiter))
    if (d !== '' && fs.existsSync(path.join(d, 'initdb')) && fs.existsSync(path.join(d, 'pg_ctl'))) return d;
  return null;
}

/** uid/gid to run the server as: the current user, or under root a system user initdb accepts. */
function serverUser(): { uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const passwd = fs.existsSync('/etc/passwd') ? fs.readFileSync('/etc/passwd', 'utf8') : '';
  for (const name of ['postgres', 'nobody']) {
    const line = passwd.split('\n').find((l) => l.startsWith(name + ':'));
    if (line === undefined) continue;
    const f = line.split(':');
    return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new PostgresUnavailable('running as root and neither a postgres nor a nobody user exists for initdb');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], user: { uid: number; gid: number } | null, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, LC_ALL: 'C', LANG: 'C', PGTZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user !== null ? { uid: user.uid, gid: user.gid } : {}),
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${path.basename(cmd)} exited ${code}: ${out.trim()}`)),
    );
  });
}

const running = new Set<{ pgCtl: string; data: string; dir: string; user: { uid: number; gid: number } | null }>();
let exitHook = false;

/** Stop servers a crashed test left behind (synchronous: runs in the 'exit' event). */
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const s of running) {
      spawnSync(s.pgCtl, ['-D', s.data, '-m', 'immediate', '-w', 'stop'], {
        stdio: 'ignore',
        ...(s.user !== null ? { uid: s.user.uid, gid: s.user.gid } : {}),
      });
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
  });
}

export async function startPostgres(opts: StartOptions = {}): Promise<PostgresServer> {
  const avail = postgresAvailability();
  if (!avail.ok) throw new PostgresUnavailable(avail.reason);
  const bin = avail.bin;
  const user = serverUser();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pg-'));
  const data = path.join(dir, 'data');
  if (user !== null) fs.chownSync(dir, user.uid, user.gid);
  await run(
    path.join(bin, 'initdb'),
    ['-D', data, '-U', 'vigil', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    user,
    dir,
  );
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    max_connections: '50',
    ...(opts.durable === true ? {} : { fsync: 'off', full_page_writes: 'off', synchronous_commit: 'off' }),
    ...opts.settings,
  };
  const pgCtl = path.join(bin, 'pg_ctl');
  let port = 0;
  let lastErr: unknown = null;
  // The free port can be taken between the probe and the server's bind: retry with another.
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await freePort();
    const o = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
    try {
      await run(pgCtl, ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', o, 'start'], user, dir);
      lastErr = null;
      break;
    } catch (e) {
      lastErr = e;
    }
  }
  if (lastErr !== null) {
    const log = fs.existsSync(path.join(dir, 'server.log'))
      ? fs.readFileSync(path.join(dir, 'server.log'), 'utf8')
      : '';
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${String(lastErr)}\n${log.slice(-2000)}`);
  }
  const entry = { pgCtl, data, dir, user };
  running.add(entry);
  installExitHook();
  let dbs = 0;
  const url = (database = 'postgres'): string => `postgres://vigil@127.0.0.1:${port}/${database}`;
  return {
    port,
    dir,
    url,
    async createDatabase(name?: string): Promise<string> {
      const db = name ?? `vigil_test_${++dbs}`;
      const c = new pg.Client({ connectionString: url() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${db}`);
      } finally {
        await c.end();
      }
      return url(db);
    },
    async stop(): Promise<void> {
      if (!running.has(entry)) return;
      running.delete(entry);
      try {
        await run(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop'], user, dir);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Run `body` (which registers tests) against one PostgreSQL server started for the file and
 * stopped after it. Without PostgreSQL binaries a single skipped test named `name` says why —
 * except under CI, which installs them, where the suite runs and fails loudly.
 */
export function withPostgres(name: string, body: (server: () => PostgresServer) => void): void {
  const avail = postgresAvailability();
  if (!avail.ok && process.env['CI'] === undefined) {
    test(name, { skip: avail.reason }, () => undefined);
    return;
  }
  let server: PostgresServer | null = null;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  body(() => {
    if (server === null) throw new Error('PostgreSQL server not started');
    return server;
  });
}
