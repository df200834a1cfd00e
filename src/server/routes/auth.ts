/**
 * Login sessions and API keys. A login returns a session token (also set as an HttpOnly,
 * SameSite=Strict cookie for the dashboard) that works as `Authorization: Bearer`; API keys are
 * long-lived bearer secrets an admin issues to a user for automation. Secrets are shown once.
 */
import type { FastifyInstance } from 'fastify';
import { nowUs } from '../../store/time.js';
import { dummyHash, hashPassword, verifyPassword } from '../auth/passwords.js';
import { SESSION_COOKIE, newSecret } from '../auth/tokens.js';
import { principalOf } from '../context.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { anyObject, errorResponses, errorSchema, idParams, userSchema } from '../schemas.js';

export const USERNAME = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$' } as const;
export const PASSWORD = { type: 'string', minLength: 8, maxLength: 256 } as const;
const LOGIN_PASSWORD = { type: 'string', minLength: 1, maxLength: 256 } as const;

const apiKeySchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'integer' },
    user_id: { type: 'integer' },
    name: { type: 'string' },
    prefix: { type: 'string' },
    revoked: { type: 'boolean' },
  },
} as const;

export async function authRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.vigil;
  const repo = ctx.repo;

  app.post<{ Body: { username: string; password: string } }>(
    '/api/auth/login',
    {
      // Not in the original (it had no login); tight to slow down password guessing.
      config: { access: 'public', rateLimit: '10 per minute' },
      schema: {
        summary: 'Log in: a session token (bearer) and the session cookie',
        tags: ['auth'],
        security: [],
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password: LOGIN_PASSWORD },
        },
        response: {
          200: {
            type: 'object',
            required: ['token', 'user'],
            properties: { token: { type: 'string' }, user: userSchema, expires_at: { type: 'string' } },
          },
          400: errorSchema,
          401: errorSchema,
          429: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const { username, password } = req.body;
      const cred = await repo.getUserCredentials(username);
      // Verify against a dummy hash for unknown users: the answer takes as long either way.
      const ok = await verifyPassword(password, cred?.password_hash ?? (await dummyHash()));
      if (cred === null || !ok || cred.disabled) {
        await ctx.audit(req, 'auth.login_failed', 'user', username, null);
        throw new ApiError('VIGIL_API_UNAUTHENTICATED', 'invalid username or password');
      }
      const s = newSecret('session');
      const now = nowUs();
      const expiresUs = now + ctx.config.sessionTtlS * 1_000_000;
      const token = await repo.createApiToken({
        userId: cred.id,
        kind: 'session',
        name: 'login',
        tokenHash: s.hash,
        prefix: s.prefix,
        expiresUs,
        nowUs: now,
      });
      const user = (await repo.updateUser(cred.id, { lastLoginUs: now, nowUs: now })) ?? cred;
      req.principal = { user, token };
      await ctx.audit(req, 'auth.login', 'user', user.id, null);
      void reply.setCookie(SESSION_COOKIE, s.secret, {
        httpOnly: true,
        sameSite: 'strict',
        secure: ctx.config.cookieSecure,
        path: '/',
        maxAge: ctx.config.sessionTtlS,
      });
      const { password_hash: _h, ...publicUser } = user as typeof user & { password_hash?: string };
      return { token: s.secret, user: publicUser, expires_at: token.expires_at };
    },
  );

  app.post(
    '/api/auth/logout',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Log out: revoke the token of this request and clear the cookie',
        tags: ['auth'],
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      await repo.revokeApiToken(p.token.id);
      await ctx.audit(req, 'auth.logout', 'user', p.user.id, { token_kind: p.token.kind });
      void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { ok: true };
    },
  );

  app.get(
    '/api/auth/me',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'The logged-in user',
        tags: ['auth'],
        response: {
          200: { type: 'object', properties: { user: userSchema, token: apiKeySchema } },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return { user: p.user, token: p.token };
    },
  );

  app.post<{ Body: { current_password: string; new_password: string } }>(
    '/api/auth/password',
    {
      config: { access: 'viewer', rateLimit: '10 per minute' },
      schema: {
        summary: 'Change your own password (ends your other sessions)',
        tags: ['auth'],
        body: {
          type: 'object',
          required: ['current_password', 'new_password'],
          additionalProperties: false,
          properties: { current_password: LOGIN_PASSWORD, new_password: PASSWORD },
        },
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } }, ...errorResponses },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const cred = await repo.getUserCredentials(p.user.username);
      if (cred === null || !(await verifyPassword(req.body.current_password, cred.password_hash)))
        throw badRequest('current_password is wrong');
      await repo.updateUser(p.user.id, { passwordHash: await hashPassword(req.body.new_password) });
      for (const t of await repo.listApiTokens(p.user.id, 'session'))
        if (t.id !== p.token.id && !t.revoked) await repo.revokeApiToken(t.id);
      await ctx.audit(req, 'user.password_change', 'user', p.user.id, null);
      return { ok: true };
    },
  );

  // ---- API keys (admin)

  app.get<{ Querystring: { user_id?: number; include_revoked?: boolean } }>(
    '/api/auth/api-keys',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'API keys (of one user, or of all)',
        tags: ['auth'],
        querystring: {
          type: 'object',
          properties: {
            user_id: { type: 'integer', minimum: 1 },
            include_revoked: { type: 'boolean', default: false },
          },
        },
        response: {
          200: { type: 'object', properties: { api_keys: { type: 'array', items: apiKeySchema } } },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const users = req.query.user_id !== undefined ? [req.query.user_id] : (await repo.listUsers()).map((u) => u.id);
      const keys = [];
      for (const id of users) keys.push(...(await repo.listApiTokens(id, 'api_key')));
      return { api_keys: req.query.include_revoked === true ? keys : keys.filter((k) => !k.revoked) };
    },
  );

  app.post<{ Body: { name: string; user_id?: number; expires_in_days?: number } }>(
    '/api/auth/api-keys',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Create an API key for a user (default: yourself); the key is shown only in this answer',
        tags: ['auth'],
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            user_id: { type: 'integer', minimum: 1 },
            expires_in_days: { type: 'integer', minimum: 1, maximum: 3650 },
          },
        },
        response: {
          201: { type: 'object', properties: { key: { type: 'string' }, api_key: apiKeySchema } },
          404: errorSchema,
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const userId = req.body.user_id ?? p.user.id;
      const owner = await repo.getUser(userId);
      if (owner === null) throw notFound(`no user ${userId}`);
      const s = newSecret('api_key');
      const now = nowUs();
      const days = req.body.expires_in_days;
      const token = await repo.createApiToken({
        userId,
        kind: 'api_key',
        name: req.body.name,
        tokenHash: s.hash,
        prefix: s.prefix,
        expiresUs: days === undefined ? null : now + days * 86_400 * 1_000_000,
        nowUs: now,
      });
      await ctx.audit(req, 'api_key.create', 'api_key', token.id, { user_id: userId, name: req.body.name });
      return reply.code(201).send({ key: s.secret, api_key: token });
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/api/auth/api-keys/:id',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Revoke an API key (or a session)',
        tags: ['auth'],
        params: idParams,
        response: { 200: anyObject, 404: errorSchema, ...errorResponses },
      },
    },
    async (req) => {
      if (!(await repo.revokeApiToken(req.params.id))) throw notFound(`no API key ${req.params.id}`);
      await ctx.audit(req, 'api_key.revoke', 'api_key', req.params.id, null);
      return { ok: true, id: req.params.id };
    },
  );
}
