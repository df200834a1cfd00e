/**
 * The HTTP server: `buildServer(options)` returns a ready-to-listen Fastify app over a repository.
 *
 * Request path: CORS -> rate limit (per client and route) -> authentication (bearer token or
 * session cookie) and the route's role -> schema validation -> handler. Every /api route declares
 * `config.access` and a schema (checked when it is added, so a route cannot ship unprotected);
 * every error leaves as `{ "error": { "code", "message" } }`.
 */
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify from 'fastify';
import { VERSION } from '../cli/version.js';
import { StoreError } from '../store/errors.js';
import { openRepository } from '../store/open.js';
import type { Repository } from '../store/repository.js';
import { hashPassword, randomPassword } from './auth/passwords.js';
import { SESSION_COOKIE, hashSecret, looksLikeSecret } from './auth/tokens.js';
import type { ServerConfig } from './config.js';
import { storeConfigOf } from './config.js';
import type { Access, CaptureStatus, ServerExtension, VigilContext } from './context.js';
import { ROLE_RANK } from './context.js';
import { ApiError, codeForStatus, errorBody } from './errors.js';
import type { RateLimitRule } from './rate-limit.js';
import { FixedWindowLimiter, parseLimits } from './rate-limit.js';
import { alertRoutes } from './routes/alerts.js';
import { authRoutes } from './routes/auth.js';
import { systemRoutes } from './routes/system.js';
import { statsRoutes } from './routes/stats.js';
import { userRoutes } from './routes/users.js';
import { addTokenCleanup } from './token-cleanup.js';

export interface BuildOptions {
  config: ServerConfig;
  /** A repository to use (tests); else one is opened from the configuration and closed with the app. */
  repo?: Repository;
  /** Later parts of the server (pcap, analyze, training, Socket.IO). */
  extensions?: readonly ServerExtension[];
  /** Live-capture state; default: not available in this build. */
  captureStatus?: () => CaptureStatus;
  /** Called once when the first start creates the admin user (`vigil serve` prints it). */
  onAdminCreated?: (username: string, password: string, generated: boolean) => void;
  /** Log destination (default stdout); logging is off when `logger` is false. */
  logger?: boolean;
  logStream?: NodeJS.WritableStream;
}

/** The built-in route plugins, in registration order (extensions come after them). */
const ROUTES = [systemRoutes, authRoutes, userRoutes, alertRoutes, statsRoutes];

/** Paths never written to logs: credentials and session secrets. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'password',
  '*.password',
  '*.current_password',
  '*.new_password',
  '*.token',
  '*.key',
];

/** Touch a token's last_used_at at most this often (one write per minute per token, not per request). */
const TOUCH_EVERY_MS = 60_000;
const TOUCH_CACHE_MAX = 10_000;

export async function buildServer(options: BuildOptions): Promise<FastifyInstance> {
  const cfg = options.config;
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: cfg.logLevel,
            redact: { paths: REDACT, censor: '[redacted]' },
            ...(options.logStream !== undefined ? { stream: options.logStream } : {}),
          },
    trustProxy: cfg.trustProxy,
    // 1 MiB of JSON is plenty for every route here; uploads (pcap) set their own limit.
    bodyLimit: 1024 * 1024,
    ajv: {
      // Unknown body fields are an error, not silently dropped (clear message on typos).
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
  });

  const ownsRepo = options.repo === undefined;
  const repo = options.repo ?? (await openRepository(storeConfigOf(cfg)));
  const extensions = options.extensions ?? [];
  const capture =
    options.captureStatus ??
    ((): CaptureStatus => ({
      enabled: cfg.capture.enabled,
      state: 'unavailable',
      interface: cfg.capture.enabled ? cfg.capture.interface : null,
      reason: 'live capture is not available in this build yet (PCAP analysis and the API work without it)',
      code: 'not_wired',
    }));
  let closed = false;
  app.addHook('onClose', async () => {
    if (closed) return;
    closed = true;
    // Extensions first (they may still write), then the store, which flushes and closes.
    for (const ext of [...extensions].reverse()) {
      try {
        await ext.close?.();
      } catch (e) {
        app.log.error({ err: e, extension: ext.name }, 'extension close failed');
      }
    }
    if (ownsRepo) await repo.close();
  });

  try {
    const ctx: VigilContext = {
      repo,
      config: cfg,
      version: VERSION,
      startedAtMs: Date.now(),
      captureStatus: capture,
      async audit(req, action, resource = null, resourceId = null, details = null) {
        await repo.appendActivity({
          username: req.principal?.user.username ?? null,
          action,
          resource,
          resourceId: resourceId === null ? null : String(resourceId),
          details,
          ip: req.ip,
        });
      },
    };
    app.decorate('vigil', ctx);
    app.decorateRequest('principal', null);

    setErrorHandling(app);
    // Fastify's JSON parser (prototype-poisoning checks included), except that an empty body is no
    // body: clients commonly send DELETE or logout with a JSON content type and nothing in it.
    const json = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') done(null, undefined);
      else json(req, text, done);
    });
    await app.register(cookie);
    await app.register(cors, {
      origin: cfg.corsOrigins,
      credentials: true,
      methods: ['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE'],
      exposedHeaders: ['Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
    });
    // Helmet's defaults, except what breaks plain-HTTP deployments: HSTS and
    // upgrade-insecure-requests only when the server sits behind TLS (cookieSecure).
    await app.register(helmet, {
      global: true,
      hsts: cfg.cookieSecure,
      contentSecurityPolicy: cfg.cookieSecure ? true : { directives: { upgradeInsecureRequests: null } },
    });
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'Vigil API',
          version: VERSION,
          description: 'Network IDS REST API. Errors: {"error": {"code", "message"}}. See docs/server.md.',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'Session token or API key' },
            session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
          },
        },
        security: [{ bearer: [] }, { session: [] }],
      },
    });

    const routeLimits = new Map<string, RateLimitRule[] | null>();
    guardRoutes(app, cfg, routeLimits);
    if (cfg.rateLimit.enabled) addRateLimit(app, cfg, routeLimits);
    addAuthentication(app, repo);
    // Expired login sessions: deleted when ready, then hourly.
    addTokenCleanup(app, repo);

    for (const r of ROUTES) await app.register(r);
    for (const ext of extensions) if (ext.routes !== undefined) await app.register(ext.routes);
    await app.register(async (a) => {
      a.get(
        '/api/docs',
        {
          config: { access: 'viewer' },
          schema: {
            summary: 'This OpenAPI document',
            tags: ['system'],
            response: { 200: { type: 'object', additionalProperties: true } },
          },
        },
        async () => a.swagger(),
      );
    });
    await ensureAdmin(repo, cfg, options.onAdminCreated, app);
    for (const ext of extensions) await ext.attach?.(app);
    await app.ready();
    return app;
  } catch (e) {
    await app.close().catch(() => undefined);
    if (ownsRepo && !closed) await repo.close().catch(() => undefined);
    throw e;
  }
}

// ---- error handling --------------------------------------------------------------------------------------

function setErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError | StoreError | Error, req, reply) => {
    if (err instanceof ApiError) return reply.code(err.statusCode).send(errorBody(err.code, err.message));
    if ('validation' in err && err.validation !== undefined)
      return reply.code(400).send(errorBody('VIGIL_API_VALIDATION', err.message));
    if (err instanceof StoreError) {
      if (err.code === 'VIGIL_STORE_CONFLICT')
        return reply.code(409).send(errorBody('VIGIL_API_CONFLICT', err.message));
      if (err.code === 'VIGIL_STORE_INVALID')
        return reply.code(400).send(errorBody('VIGIL_API_VALIDATION', err.message));
      req.log.error({ err }, 'store error');
      return reply.code(503).send(errorBody('VIGIL_API_UNAVAILABLE', 'the database is unavailable'));
    }
    const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) return reply.code(status).send(errorBody(codeForStatus(status), err.message));
    req.log.error({ err }, 'request failed');
    return reply.code(500).send(errorBody('VIGIL_API_INTERNAL', 'internal server error'));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody('VIGIL_API_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
  });
}

// ---- route checks and rate limits -----------------------------------------------------------------------

function routeKey(method: string, url: string): string {
  return `${method} ${url}`;
}

/** Every /api route must say who may call it and carry a schema; its rate limits are resolved once. */
function guardRoutes(app: FastifyInstance, cfg: ServerConfig, limits: Map<string, RateLimitRule[] | null>): void {
  app.addHook('onRoute', (r) => {
    if (!r.url.startsWith('/api')) return;
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    if (methods.every((m) => m === 'HEAD' || m === 'OPTIONS')) return;
    if (r.config?.access === undefined)
      throw new Error(`route ${methods.join(',')} ${r.url} declares no config.access`);
    if (r.schema === undefined) throw new Error(`route ${methods.join(',')} ${r.url} has no schema`);
    for (const m of methods) {
      const key = routeKey(m, r.url);
      const configured = cfg.rateLimit.routes[key];
      const own = r.config.rateLimit;
      limits.set(
        key,
        configured !== undefined
          ? configured
          : own === false
            ? null
            : own !== undefined
              ? parseLimits(own)
              : cfg.rateLimit.defaults,
      );
    }
  });
}

function addRateLimit(app: FastifyInstance, cfg: ServerConfig, limits: Map<string, RateLimitRule[] | null>): void {
  const limiter = new FixedWindowLimiter();
  app.addHook('onRequest', async (req, reply) => {
    const url = req.routeOptions.url;
    if (url === undefined) return;
    // HEAD shares its GET's counters (Fastify adds HEAD routes for GETs).
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const key = routeKey(method, url);
    // null: the route opted out (rateLimit: false); unknown keys under /api get the defaults.
    const rules = limits.has(key) ? limits.get(key)! : url.startsWith('/api') ? cfg.rateLimit.defaults : null;
    if (rules === null) return;
    const d = limiter.hit(req.ip, key, rules);
    void reply.header('X-RateLimit-Limit', d.limit);
    void reply.header('X-RateLimit-Remaining', d.remaining);
    void reply.header('X-RateLimit-Reset', d.resetS);
    if (!d.allowed) {
      void reply.header('Retry-After', d.retryAfterS);
      throw new ApiError('VIGIL_API_RATE_LIMITED', `rate limit exceeded; retry in ${d.retryAfterS} s`);
    }
  });
  app.addHook('onClose', async () => limiter.clear());
}

// ---- authentication -------------------------------------------------------------------------------------

function bearerOf(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (h !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    return m === null ? '' : m[1]!;
  }
  const c = req.cookies[SESSION_COOKIE];
  return c === undefined || c === '' ? null : c;
}

function addAuthentication(app: FastifyInstance, repo: Repository): void {
  const touched = new Map<number, number>();
  app.addHook('onRequest', async (req: FastifyRequest, _reply: FastifyReply) => {
    const access: Access | undefined = req.routeOptions.config?.access;
    // Routes outside /api without access (CORS preflight, later the dashboard's files) are public.
    if (access === undefined || access === 'public') return;
    const secret = bearerOf(req);
    if (secret === null) throw new ApiError('VIGIL_API_UNAUTHENTICATED', 'authentication required');
    const found = looksLikeSecret(secret) ? await repo.findApiToken(hashSecret(secret)) : null;
    if (found === null) throw new ApiError('VIGIL_API_UNAUTHENTICATED', 'invalid or expired token');
    req.principal = found;
    if (ROLE_RANK[found.user.role] < ROLE_RANK[access])
      throw new ApiError('VIGIL_API_FORBIDDEN', `this needs the ${access} role (you are ${found.user.role})`);
    const now = Date.now();
    const last = touched.get(found.token.id);
    if (last === undefined || now - last > TOUCH_EVERY_MS) {
      if (touched.size >= TOUCH_CACHE_MAX) touched.clear();
      touched.set(found.token.id, now);
      await repo.touchApiToken(found.token.id);
    }
  });
}

// ---- first start -----------------------------------------------------------------------------------------

/** The first start (no users) creates `admin` with VIGIL_ADMIN_PASSWORD or a random password. */
async function ensureAdmin(
  repo: Repository,
  cfg: ServerConfig,
  onCreated: BuildOptions['onAdminCreated'],
  app: FastifyInstance,
): Promise<void> {
  if ((await repo.countUsers()) > 0) return;
  const generated = cfg.adminPassword === null;
  const password = cfg.adminPassword ?? randomPassword();
  try {
    await repo.createUser({ username: 'admin', passwordHash: await hashPassword(password), role: 'admin' });
  } catch (e) {
    // Another server on the same database created it first.
    if (e instanceof StoreError && e.code === 'VIGIL_STORE_CONFLICT') return;
    throw e;
  }
  await repo.appendActivity({
    username: null,
    action: 'user.create',
    resource: 'user',
    resourceId: 'admin',
    details: { role: 'admin', reason: 'first start', generated_password: generated },
  });
  app.log.info({ generated }, 'created the admin user');
  onCreated?.('admin', password, generated);
}
