/**
 * Socket.IO on the API's own HTTP server (path /socket.io), the original's events:
 *
 * - handshake: a session token or API key in `auth: {token}` (or `Authorization: Bearer`), or the
 *   session cookie a browser sends by itself; anything else is refused (`connect_error`, message
 *   "unauthorized"). CORS as the REST API (VIGIL_CORS_ORIGINS).
 * - `connected` on connect; `join_room` / `leave_room` answered by `joined_room` / `left_room`;
 * - `new_alert` for every stored alert (live capture, PCAP jobs, test routes), at most
 *   WEBSOCKET_MAX_ALERTS_PER_S a second (a flood is counted in traffic_update instead);
 * - `traffic_update` every WEBSOCKET_BROADCAST_INTERVAL seconds (totals and rates);
 * - `connection_update` when the number of active flows or connected clients changes;
 * - `pcap_progress` relaying the PCAP job queue's progress and status.
 *
 * Producers publish on the ServerHub (hub.ts); this module only relays.
 */
import type { FastifyInstance } from 'fastify';
import { Server } from 'socket.io';
import type { Socket } from 'socket.io';
import type { PcapProgress } from '../jobs/pcap-analysis.js';
import type { PcapStatus, User } from '../store/types.js';
import { SESSION_COOKIE, hashSecret, looksLikeSecret } from './auth/tokens.js';
import type { ServerExtension } from './context.js';
import type { AlertEvent, ServerHub, TrafficSnapshot } from './hub.js';

export const DEFAULT_BROADCAST_INTERVAL_S = 3;
export const DEFAULT_MAX_ALERTS_PER_S = 200;
/** Rooms one socket may be in (besides its own). */
const MAX_ROOMS = 16;
const ROOM_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface RealtimeOptions {
  hub: ServerHub;
  /** WEBSOCKET_BROADCAST_INTERVAL, seconds (default 3). */
  broadcastIntervalS?: number;
  /** WEBSOCKET_MAX_ALERTS_PER_S (default 200). */
  maxAlertsPerSecond?: number;
  /**
   * How often open sockets' tokens are checked again, ms (default 60 s): a logout, a revoked key,
   * an expired session or a disabled user ends the socket within this time.
   */
  revalidateMs?: number;
  /** The PCAP queue's counts for traffic_update (null: no PCAP routes). */
  pcapQueue?: () => { queued: number; running: number } | null;
}

/** traffic_update's payload. */
export interface TrafficUpdate {
  timestamp: string;
  interval_s: number;
  capture: { state: string; interface: string | null; reason: string | null };
  packets: number;
  bytes: number;
  packets_per_second: number;
  bytes_per_second: number;
  active_connections: number;
  flows_total: number;
  dropped: number;
  protocols: Record<string, number>;
  alerts_total: number;
  alerts_per_second: number;
  alerts_not_broadcast: number;
  clients: number;
  pcap_queue: { queued: number; running: number } | null;
}

interface SocketData {
  user: Pick<User, 'id' | 'username' | 'role'>;
  /** SHA-256 of the handshake's secret, to check it again later. */
  tokenHash: string;
}

export const DEFAULT_REVALIDATE_MS = 60_000;

function tokenOf(socket: Socket, parseCookie: (s: string) => Record<string, string | undefined>): string | null {
  const auth = socket.handshake.auth as Record<string, unknown> | undefined;
  const t = auth?.['token'];
  if (typeof t === 'string' && t !== '') return t.replace(/^Bearer\s+/i, '');
  const h = socket.handshake.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (m !== null) return m[1]!;
  }
  const c = socket.handshake.headers.cookie;
  if (typeof c === 'string') {
    const v = parseCookie(c)[SESSION_COOKIE];
    if (v !== undefined && v !== '') return v;
  }
  return null;
}

function roomOf(payload: unknown): string | null {
  const r =
    typeof payload === 'string'
      ? payload
      : typeof payload === 'object' && payload !== null
        ? (payload as Record<string, unknown>)['room']
        : undefined;
  return typeof r === 'string' && ROOM_PATTERN.test(r) ? r : null;
}

/** The Socket.IO server as a server extension (attached to the Fastify HTTP server). */
export function realtimeExtension(opts: RealtimeOptions): ServerExtension & { io(): Server | null } {
  const hub = opts.hub;
  const intervalS = opts.broadcastIntervalS ?? DEFAULT_BROADCAST_INTERVAL_S;
  const maxPerS = opts.maxAlertsPerSecond ?? DEFAULT_MAX_ALERTS_PER_S;
  let io: Server | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const listeners: (() => void)[] = [];

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    if (timer !== null) clearInterval(timer);
    for (const off of listeners) off();
    if (io !== null) {
      // Open WebSockets would keep the HTTP server's close() waiting: end them first.
      io.disconnectSockets(true);
      io.engine.close();
    }
  };

  return {
    name: 'realtime',
    io: () => io,
    async close() {
      stop();
    },
    attach(app: FastifyInstance) {
      const ctx = app.vigil;
      const server = new Server(app.server, {
        path: '/socket.io',
        serveClient: false,
        cors: { origin: ctx.config.corsOrigins, credentials: true },
        // Clients send only room names: small frames suffice.
        maxHttpBufferSize: 16 * 1024,
      });
      io = server;
      app.addHook('preClose', (done) => {
        stop();
        done();
      });

      server.use((socket, next) => {
        const token = tokenOf(socket, (s) => app.parseCookie(s));
        if (token === null || !looksLikeSecret(token)) {
          next(Object.assign(new Error('unauthorized'), { data: { code: 'VIGIL_API_UNAUTHENTICATED' } }));
          return;
        }
        const tokenHash = hashSecret(token);
        ctx.repo.findApiToken(tokenHash).then(
          (found) => {
            if (found === null) {
              next(Object.assign(new Error('unauthorized'), { data: { code: 'VIGIL_API_UNAUTHENTICATED' } }));
              return;
            }
            (socket.data as SocketData).user = {
              id: found.user.id,
              username: found.user.username,
              role: found.user.role,
            };
            (socket.data as SocketData).tokenHash = tokenHash;
            next();
          },
          (e: unknown) => {
            app.log.error({ err: e }, 'socket authentication failed');
            next(Object.assign(new Error('unavailable'), { data: { code: 'VIGIL_API_UNAVAILABLE' } }));
          },
        );
      });

      // ---- connection_update: flows (live capture) and clients, sent when either changes.
      let lastConn = { active_connections: -1, clients: -1 };
      const connectionUpdate = (force: boolean): void => {
        const t = hub.traffic();
        const cur = { active_connections: t?.flows_active ?? 0, clients: server.engine.clientsCount };
        if (!force && cur.active_connections === lastConn.active_connections && cur.clients === lastConn.clients)
          return;
        lastConn = cur;
        server.emit('connection_update', { ...cur, timestamp: new Date().toISOString() });
      };

      server.on('connection', (socket) => {
        const user = (socket.data as SocketData).user;
        socket.emit('connected', {
          sid: socket.id,
          user,
          server_time: new Date().toISOString(),
          version: ctx.version,
          broadcast_interval_s: intervalS,
        });
        socket.on('join_room', (payload: unknown, ack?: unknown) => {
          const room = roomOf(payload);
          let reply: Record<string, unknown>;
          if (room === null)
            reply = { error: { code: 'VIGIL_API_VALIDATION', message: 'room must match [A-Za-z0-9_.:-]{1,64}' } };
          else if (!socket.rooms.has(room) && socket.rooms.size > MAX_ROOMS)
            reply = {
              room,
              error: { code: 'VIGIL_API_VALIDATION', message: `at most ${MAX_ROOMS} rooms per connection` },
            };
          else {
            void socket.join(room);
            reply = { room };
          }
          socket.emit('joined_room', reply);
          if (typeof ack === 'function') (ack as (r: unknown) => void)(reply);
        });
        socket.on('leave_room', (payload: unknown, ack?: unknown) => {
          const room = roomOf(payload);
          const reply: Record<string, unknown> =
            room === null || room === socket.id
              ? { error: { code: 'VIGIL_API_VALIDATION', message: 'not a room name' } }
              : { room };
          if (room !== null && room !== socket.id) void socket.leave(room);
          socket.emit('left_room', reply);
          if (typeof ack === 'function') (ack as (r: unknown) => void)(reply);
        });
        socket.on('disconnect', () => connectionUpdate(false));
        connectionUpdate(false);
      });

      // ---- new_alert, bounded: a token bucket refilled each second.
      let budget = maxPerS;
      let budgetAt = Date.now();
      let notBroadcast = 0;
      const onAlert = (a: AlertEvent): void => {
        const now = Date.now();
        if (now - budgetAt >= 1000) {
          budget = maxPerS;
          budgetAt = now;
        }
        if (budget <= 0) {
          notBroadcast++;
          return;
        }
        budget--;
        server.emit('new_alert', a);
      };
      hub.on('alert', onAlert);
      listeners.push(() => hub.off('alert', onAlert));

      // ---- pcap_progress: progress while running, then the final status.
      const lastPercent = new Map<string, PcapProgress>();
      const onProgress = (p: PcapProgress): void => {
        lastPercent.set(p.analysis_id, p);
        server.emit('pcap_progress', { ...p, status: 'running' });
      };
      const onStatus = (s: { analysis_id: string; status: PcapStatus }): void => {
        const p = lastPercent.get(s.analysis_id);
        if (s.status === 'completed' || s.status === 'failed') lastPercent.delete(s.analysis_id);
        if (s.status === 'running' && p === undefined) return;
        server.emit('pcap_progress', {
          analysis_id: s.analysis_id,
          status: s.status,
          percent: s.status === 'completed' ? 100 : (p?.percent ?? 0),
          packets: p?.packets ?? 0,
          alerts: p?.alerts ?? 0,
        });
      };
      hub.on('pcap_progress', onProgress);
      hub.on('pcap_status', onStatus);
      listeners.push(() => hub.off('pcap_progress', onProgress));
      listeners.push(() => hub.off('pcap_status', onStatus));

      // ---- traffic_update: rates over the interval from cumulative counters.
      let prev: { t: number; packets: number; bytes: number; alerts: number } | null = null;
      const tick = (): void => {
        if (server.engine.clientsCount === 0) {
          prev = null;
          return;
        }
        const now = Date.now();
        const t: TrafficSnapshot | null = hub.traffic();
        const cap = ctx.captureStatus();
        const cur = { t: now, packets: t?.packets ?? 0, bytes: t?.bytes ?? 0, alerts: hub.alertsPublished };
        const dt = prev === null ? 0 : (now - prev.t) / 1000;
        const rate = (a: number, b: number): number => (dt > 0 ? Math.max(0, Math.round(((a - b) / dt) * 10) / 10) : 0);
        const u: TrafficUpdate = {
          timestamp: new Date(now).toISOString(),
          interval_s: intervalS,
          capture: { state: cap.state, interface: cap.interface, reason: cap.reason },
          packets: cur.packets,
          bytes: cur.bytes,
          packets_per_second: prev === null ? 0 : rate(cur.packets, prev.packets),
          bytes_per_second: prev === null ? 0 : rate(cur.bytes, prev.bytes),
          active_connections: t?.flows_active ?? 0,
          flows_total: t?.flows_total ?? 0,
          dropped: t?.dropped ?? 0,
          protocols: t?.protocols ?? {},
          alerts_total: cur.alerts,
          alerts_per_second: prev === null ? 0 : rate(cur.alerts, prev.alerts),
          alerts_not_broadcast: notBroadcast,
          clients: server.engine.clientsCount,
          pcap_queue: opts.pcapQueue?.() ?? null,
        };
        prev = cur;
        server.emit('traffic_update', u);
        connectionUpdate(false);
      };
      timer = setInterval(tick, Math.max(100, intervalS * 1000));
      timer.unref();

      // ---- tokens of open sockets, checked again: one store lookup per socket per period.
      let checking = false;
      const revalidate = async (): Promise<void> => {
        if (checking) return;
        checking = true;
        try {
          for (const sock of [...server.sockets.sockets.values()]) {
            const d = sock.data as SocketData;
            let found;
            try {
              found = await ctx.repo.findApiToken(d.tokenHash);
            } catch {
              // The store is unavailable: keep the socket; the next round checks again.
              continue;
            }
            if (found === null) {
              sock.emit('session_ended', {
                code: 'VIGIL_API_UNAUTHENTICATED',
                message: 'the session or key is no longer valid',
              });
              sock.disconnect(true);
            }
          }
        } finally {
          checking = false;
        }
      };
      const recheck = setInterval(() => void revalidate(), opts.revalidateMs ?? DEFAULT_REVALIDATE_MS);
      recheck.unref();
      listeners.push(() => clearInterval(recheck));
    },
  };
}
