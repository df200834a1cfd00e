/**
 * The original's test endpoints, admin only and off unless enabled (VIGIL_TEST_ROUTES=true, or
 * NODE_ENV=development): they write alerts that never happened on the wire, which a production
 * sensor should not allow even to admins by default.
 *
 * - `POST /api/test/trigger-alert`: store a synthetic alert (type, severity, addresses as given)
 *   and broadcast it (`new_alert`).
 * - `POST /api/test/inject-packet`: run a packet (raw hex/base64, Ethernet or IP, or built from
 *   fields) through a packet engine with the built-in rules (inject.ts); its alerts are stored and
 *   broadcast like live ones.
 */
import type { FastifyInstance } from 'fastify';
import { VIGIL_TYPES } from '../alerts/taxonomy.js';
import { toStoredAlertInput } from '../store/alert-input.js';
import { nowUs } from '../store/time.js';
import type { AlertSeverity, StoredAlertInput } from '../store/types.js';
import type { ServerExtension } from './context.js';
import { principalOf } from './context.js';
import { badRequest } from './errors.js';
import type { AlertEvent, ServerHub } from './hub.js';
import { alertEvent } from './hub.js';
import type { InjectRequest } from './inject.js';
import { MAX_INJECT_PACKETS, framesOf, runInjection } from './inject.js';
import { anyObject, checkIp, errorResponses } from './schemas.js';

/** Sensor name on alerts the test routes store (so they are easy to find and delete). */
export const TEST_SENSOR = 'vigil-test';

/** Whether the test routes are on: VIGIL_TEST_ROUTES=true|false, else only in development. */
export function testRoutesEnabled(env: Record<string, string | undefined> = process.env): boolean {
  const v = (env['VIGIL_TEST_ROUTES'] ?? '').trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  if (v !== '') throw new Error(`VIGIL_TEST_ROUTES must be true or false, got "${env['VIGIL_TEST_ROUTES']}"`);
  return env['NODE_ENV'] === 'development';
}

interface TriggerBody {
  type: string;
  severity: AlertSeverity;
  message?: string;
  source_ip: string;
  destination_ip: string;
  source_port?: number;
  destination_port?: number;
  protocol: 'TCP' | 'UDP' | 'ICMP';
}

const port = { type: 'integer', minimum: 0, maximum: 65535 } as const;
const ip = { type: 'string', maxLength: 64 } as const;
const hexOrBase64 = { type: 'string', minLength: 1, maxLength: 40_000 } as const;

export function testRoutesExtension(opts: { hub: ServerHub }): ServerExtension {
  return {
    name: 'test-routes',
    routes: async (app: FastifyInstance) => {
      const ctx = app.vigil;
      const repo = opts.hub.publishingRepository(ctx.repo, 'test');

      const store = async (inputs: StoredAlertInput[]): Promise<AlertEvent[]> => {
        if (inputs.length === 0) return [];
        const res = await repo.insertAlerts(inputs);
        return inputs.map((a, i) => alertEvent(a, res[i]!, 'test'));
      };

      app.post<{ Body: TriggerBody }>(
        '/api/test/trigger-alert',
        {
          config: { access: 'admin' },
          // An empty POST means "all defaults": give the validator an object to fill them into.
          preValidation: async (req) => {
            if (req.body === undefined || req.body === null) req.body = {} as TriggerBody;
          },
          schema: {
            summary: 'Store and broadcast a synthetic test alert (VIGIL_TEST_ROUTES)',
            tags: ['test'],
            body: {
              type: 'object',
              additionalProperties: false,
              properties: {
                type: { type: 'string', enum: VIGIL_TYPES, default: 'policy' },
                severity: { type: 'string', enum: ['low', 'medium', 'high', 'critical'], default: 'medium' },
                message: { type: 'string', minLength: 1, maxLength: 500 },
                source_ip: { ...ip, default: '192.0.2.10' },
                destination_ip: { ...ip, default: '192.0.2.20' },
                source_port: port,
                destination_port: port,
                protocol: { type: 'string', enum: ['TCP', 'UDP', 'ICMP'], default: 'TCP' },
              },
            },
            response: { 201: anyObject, ...errorResponses },
          },
        },
        async (req, reply) => {
          const b = req.body;
          checkIp(b.source_ip, 'source_ip');
          checkIp(b.destination_ip, 'destination_ip');
          const ported = b.protocol !== 'ICMP';
          const input: StoredAlertInput = {
            tsUs: nowUs(),
            type: b.type,
            severity: b.severity,
            detector: 'signature',
            gid: 1,
            // Vigil's local test range; not a rule in the shipped set.
            signatureId: 9_999_999,
            rev: 1,
            message: b.message ?? `VIGIL TEST ${b.type} alert`,
            category: 'Test alert',
            sourceIp: b.source_ip,
            sourcePort: ported ? (b.source_port ?? 40000) : null,
            destinationIp: b.destination_ip,
            destinationPort: ported ? (b.destination_port ?? 80) : null,
            protocol: b.protocol,
            appProto: null,
            flowId: null,
            communityId: null,
            sensor: TEST_SENSOR,
            metadata: { vigil_test: ['true'], triggered_by: [principalOf(req).user.username] },
            evidence: null,
            mitre: [],
            raw: null,
          };
          const [alert] = await store([input]);
          await ctx.audit(req, 'test.trigger_alert', 'alert', alert!.id, { type: b.type });
          return reply.code(201).send({ alert });
        },
      );

      app.post<{ Body: InjectRequest & { store: boolean } }>(
        '/api/test/inject-packet',
        {
          config: { access: 'admin' },
          schema: {
            summary:
              'Run a packet through the detection engine; its alerts are stored and broadcast (VIGIL_TEST_ROUTES)',
            tags: ['test'],
            body: {
              type: 'object',
              additionalProperties: false,
              properties: {
                packet: hexOrBase64,
                packets: { type: 'array', minItems: 1, maxItems: MAX_INJECT_PACKETS, items: hexOrBase64 },
                encoding: { type: 'string', enum: ['hex', 'base64'] },
                link: { type: 'string', enum: ['ethernet', 'raw'] },
                fields: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['src_ip', 'dst_ip', 'protocol'],
                  properties: {
                    src_ip: ip,
                    dst_ip: ip,
                    protocol: { type: 'string', enum: ['tcp', 'udp', 'icmp'] },
                    src_port: port,
                    dst_port: port,
                    payload: { type: 'string', maxLength: 9216 },
                    payload_hex: { type: 'string', maxLength: 18_432 },
                    payload_base64: { type: 'string', maxLength: 12_288 },
                    session: { type: 'boolean' },
                    response: { type: 'string', maxLength: 9216 },
                  },
                },
                store: { type: 'boolean', default: true, description: 'Store and broadcast the alerts (default)' },
              },
            },
            response: { 200: anyObject, ...errorResponses },
          },
        },
        async (req) => {
          const b = req.body;
          if (b === undefined) throw badRequest('give packet, packets or fields');
          const frames = framesOf(b);
          const r = runInjection(frames, nowUs());
          const inputs = r.alerts.map((a) => toStoredAlertInput(a, { sensor: TEST_SENSOR }));
          const alerts = b.store
            ? await store(inputs)
            : inputs.map((a) => alertEvent(a, { id: 0, isNew: false, count: 0 }, 'test'));
          await ctx.audit(req, 'test.inject_packet', 'packet', null, {
            frames: frames.frames.length,
            alerts: alerts.length,
            stored: b.store,
          });
          return {
            packets: r.packets,
            frames: frames.frames.length,
            alerts,
            alerts_count: alerts.length,
            stored: b.store,
            decoder_events: r.decoder_events,
          };
        },
      );
    },
  };
}
