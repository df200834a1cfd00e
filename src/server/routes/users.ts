/** User management and the audit log (admin only). */
import type { FastifyInstance } from 'fastify';
import { USER_ROLES } from '../../store/types.js';
import type { User, UserPatch, UserRole } from '../../store/types.js';
import { hashPassword } from '../auth/passwords.js';
import { principalOf } from '../context.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { anyObject, errorResponses, errorSchema, idParams, rangeOf, userSchema } from '../schemas.js';
import { PASSWORD, USERNAME } from './auth.js';

const ROLE = { type: 'string', enum: USER_ROLES } as const;
const userReply = { type: 'object', properties: { user: userSchema } } as const;

export async function userRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.vigil;
  const repo = ctx.repo;

  /** Refuse changes that would leave no enabled admin (nobody could manage users any more). */
  async function keepsAnAdmin(
    target: User,
    after: { role?: UserRole; disabled?: boolean; deleted?: boolean },
  ): Promise<void> {
    if (target.role !== 'admin' || target.disabled) return;
    const stillAdmin = after.deleted !== true && after.disabled !== true && (after.role ?? 'admin') === 'admin';
    if (stillAdmin) return;
    const admins = (await repo.listUsers()).filter((u) => u.role === 'admin' && !u.disabled);
    if (admins.length <= 1) throw conflict('this is the last enabled admin');
  }

  app.get(
    '/api/users',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Users',
        tags: ['users'],
        response: {
          200: { type: 'object', properties: { users: { type: 'array', items: userSchema } } },
          ...errorResponses,
        },
      },
    },
    async () => ({ users: await repo.listUsers() }),
  );

  app.post<{ Body: { username: string; password: string; role: UserRole } }>(
    '/api/users',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Create a user',
        tags: ['users'],
        body: {
          type: 'object',
          required: ['username', 'password', 'role'],
          additionalProperties: false,
          properties: { username: USERNAME, password: PASSWORD, role: ROLE },
        },
        response: { 201: userReply, 409: errorSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { username, password, role } = req.body;
      if ((await repo.getUserByUsername(username)) !== null) throw conflict(`user ${username} exists`);
      const user = await repo.createUser({ username, role, passwordHash: await hashPassword(password) });
      await ctx.audit(req, 'user.create', 'user', user.id, { username, role });
      return reply.code(201).send({ user });
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/users/:id',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'One user',
        tags: ['users'],
        params: idParams,
        response: { 200: userReply, 404: errorSchema, ...errorResponses },
      },
    },
    async (req) => {
      const user = await repo.getUser(req.params.id);
      if (user === null) throw notFound(`no user ${req.params.id}`);
      return { user };
    },
  );

  app.patch<{ Params: { id: number }; Body: { role?: UserRole; password?: string; disabled?: boolean } }>(
    '/api/users/:id',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Change a user: role, password (ends their sessions), disabled',
        tags: ['users'],
        params: idParams,
        body: {
          type: 'object',
          minProperties: 1,
          additionalProperties: false,
          properties: { role: ROLE, password: PASSWORD, disabled: { type: 'boolean' } },
        },
        response: { 200: userReply, 404: errorSchema, 409: errorSchema, ...errorResponses },
      },
    },
    async (req) => {
      const target = await repo.getUser(req.params.id);
      if (target === null) throw notFound(`no user ${req.params.id}`);
      const b = req.body;
      await keepsAnAdmin(target, {
        ...(b.role !== undefined ? { role: b.role } : {}),
        ...(b.disabled !== undefined ? { disabled: b.disabled } : {}),
      });
      const patch: UserPatch = {};
      if (b.role !== undefined) patch.role = b.role;
      if (b.disabled !== undefined) patch.disabled = b.disabled;
      if (b.password !== undefined) patch.passwordHash = await hashPassword(b.password);
      const user = await repo.updateUser(target.id, patch);
      if (user === null) throw notFound(`no user ${req.params.id}`);
      if (b.password !== undefined)
        for (const t of await repo.listApiTokens(target.id, 'session')) if (!t.revoked) await repo.revokeApiToken(t.id);
      await ctx.audit(req, 'user.update', 'user', target.id, {
        ...(b.role !== undefined ? { role: b.role } : {}),
        ...(b.disabled !== undefined ? { disabled: b.disabled } : {}),
        ...(b.password !== undefined ? { password_changed: true } : {}),
      });
      return { user };
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/api/users/:id',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Delete a user and their tokens',
        tags: ['users'],
        params: idParams,
        response: { 200: anyObject, 404: errorSchema, 409: errorSchema, ...errorResponses },
      },
    },
    async (req) => {
      const target = await repo.getUser(req.params.id);
      if (target === null) throw notFound(`no user ${req.params.id}`);
      if (target.id === principalOf(req).user.id) throw badRequest('you cannot delete yourself');
      await keepsAnAdmin(target, { deleted: true });
      await repo.deleteUser(target.id);
      await ctx.audit(req, 'user.delete', 'user', target.id, { username: target.username });
      return { ok: true, id: target.id };
    },
  );

  app.get<{
    Querystring: {
      username?: string;
      action?: string;
      start_date?: string;
      end_date?: string;
      limit: number;
      offset: number;
    };
  }>(
    '/api/activities',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Audit log (user_activities), newest first',
        tags: ['users'],
        querystring: {
          type: 'object',
          properties: {
            username: { type: 'string', maxLength: 64 },
            action: { type: 'string', maxLength: 64 },
            start_date: { type: 'string', maxLength: 40 },
            end_date: { type: 'string', maxLength: 40 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, maximum: 10_000_000, default: 0 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { activities: { type: 'array', items: anyObject }, total: { type: 'integer' } },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const q = req.query;
      return repo.listActivities({
        ...(q.username !== undefined ? { username: q.username } : {}),
        ...(q.action !== undefined ? { action: q.action } : {}),
        ...rangeOf(q.start_date, q.end_date),
        limit: q.limit,
        offset: q.offset,
      });
    },
  );
}
