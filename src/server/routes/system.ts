/** Health (public) and system information. */
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import { redactConfig } from '../config.js';
import { anyObject, errorResponses } from '../schemas.js';

const captureSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    enabled: { type: 'boolean' },
    state: { type: 'string' },
    interface: { type: ['string', 'null'] },
    reason: { type: ['string', 'null'] },
  },
} as const;

export async function systemRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.vigil;

  app.get(
    '/api/health',
    {
      // Monitoring polls it: no login, no rate limit (the original counted it against 200/hour).
      config: { access: 'public', rateLimit: false },
      schema: {
        summary: 'Health: database, capture and version',
        tags: ['system'],
        response: {
          200: {
            type: 'object',
            additionalProperties: true,
            properties: {
              status: { type: 'string', enum: ['ok', 'degraded'] },
              version: { type: 'string' },
              uptime_s: { type: 'number' },
              database: anyObject,
              capture: captureSchema,
            },
          },
          503: anyObject,
        },
      },
    },
    async (_req, reply) => {
      const db = await ctx.repo.health().catch((e: unknown) => ({
        ok: false,
        backend: ctx.repo.backend,
        schema_version: ctx.repo.schemaVersion,
        latency_ms: 0,
        error: e instanceof Error ? e.message : String(e),
      }));
      const body = {
        status: db.ok ? 'ok' : 'degraded',
        version: ctx.version,
        uptime_s: Math.round((Date.now() - ctx.startedAtMs) / 1000),
        database: db,
        capture: ctx.captureStatus(),
      };
      return reply.code(db.ok ? 200 : 503).send(body);
    },
  );

  app.get(
    '/api/system/info',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'System and configuration (secrets redacted)',
        tags: ['system'],
        response: { 200: anyObject, ...errorResponses },
      },
    },
    async () => {
      const mem = process.memoryUsage();
      return {
        version: ctx.version,
        node: process.version,
        platform: process.platform,
        arch: process.arch,
        hostname: os.hostname(),
        cpus: os.cpus().length,
        uptime_s: Math.round((Date.now() - ctx.startedAtMs) / 1000),
        memory: { rss: mem.rss, heap_used: mem.heapUsed, heap_total: mem.heapTotal },
        database: { backend: ctx.repo.backend, schema_version: ctx.repo.schemaVersion },
        capture: ctx.captureStatus(),
        config: redactConfig(ctx.config),
      };
    },
  );
}
