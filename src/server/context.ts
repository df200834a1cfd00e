/**
 * What route plugins share: the store, the configuration, the audit log, the capture status, and
 * the access rule every route declares (`config.access`). Kept apart from app.ts so route files
 * and later extensions (pcap, analyze, training, Socket.IO) import it without a cycle.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Repository } from '../store/repository.js';
import type { ApiToken, User, UserRole } from '../store/types.js';
import type { ServerConfig } from './config.js';

/** Who may call a route: `public` (no login; only /api/health) or the lowest role that may. */
export type Access = 'public' | UserRole;

/** Role order: each role may do what the roles before it may. */
export const ROLE_RANK: Readonly<Record<UserRole, number>> = { viewer: 1, analyst: 2, admin: 3 };

/** The authenticated caller of a request. */
export interface Principal {
  user: User;
  token: ApiToken;
}

/** Live-capture state as /api/health and /api/system/info report it. */
export interface CaptureStatus {
  /** CAPTURE_ENABLED as configured. */
  enabled: boolean;
  /** `unavailable`: not built, not permitted or not installed; the others as src/capture/live.ts's LiveState. */
  state: 'unavailable' | 'idle' | 'starting' | 'running' | 'restarting' | 'stopped' | 'failed';
  interface: string | null;
  /** Why capture is not running, in words, when it is not. */
  reason: string | null;
  /** The same as a stable code (src/capture/live.ts's LiveUnavailableReason: no_privileges, ...). */
  code?: string | null;
  /** Kernel/interface drop counters and the like, when running. */
  stats?: Record<string, number>;
}

export interface VigilContext {
  readonly repo: Repository;
  readonly config: ServerConfig;
  readonly version: string;
  /** Process start (ms since epoch), for uptime. */
  readonly startedAtMs: number;
  captureStatus(): CaptureStatus;
  /** Record a change in user_activities (who, from where, what). */
  audit(
    req: FastifyRequest,
    action: string,
    resource?: string | null,
    resourceId?: string | number | null,
    details?: Record<string, unknown> | null,
  ): Promise<void>;
}

/**
 * A later part of the server (PCAP jobs, analyze, training, Socket.IO) plugged into buildServer:
 * its routes are registered with the built-in ones (each must declare `config.access` and a
 * schema, or start-up fails), `attach` runs once the routes exist, `close` at shutdown before the
 * store closes (to flush its writes).
 */
export interface ServerExtension {
  name: string;
  routes?: FastifyPluginAsync;
  attach?: (app: FastifyInstance) => void | Promise<void>;
  close?: () => Promise<void>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every /api route. */
    access?: Access;
    /** Flask-Limiter notation ("10 per minute"); replaces the default limits; false: not limited. */
    rateLimit?: string | false;
  }
  interface FastifyInstance {
    vigil: VigilContext;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The caller (routes with access other than public always have one). */
export function principalOf(req: FastifyRequest): Principal {
  if (req.principal === null) throw new Error('route reached without authentication');
  return req.principal;
}
