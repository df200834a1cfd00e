/**
 * The extensions `vigil serve` runs on top of the REST API: PCAP analysis, the test routes (when
 * enabled), live capture and Socket.IO, sharing one ServerHub. Their own settings come from the
 * environment (the original's names where it had them); a bad value stops start-up with a
 * one-line ConfigError, like the rest of the configuration.
 */
import { ConfigError } from './config.js';
import type { ServerConfig } from './config.js';
import type { CaptureStatus, ServerExtension } from './context.js';
import { ServerHub } from './hub.js';
import { liveCaptureExtension } from './live.js';
import type { LiveExtensionOptions } from './live.js';
import { pcapExtension } from './pcap.js';
import type { PcapExtensionOptions } from './pcap.js';
import { DEFAULT_BROADCAST_INTERVAL_S, DEFAULT_MAX_ALERTS_PER_S, realtimeExtension } from './realtime.js';
import { testRoutesEnabled, testRoutesExtension } from './test-routes.js';

type Env = Record<string, string | undefined>;

export interface ExtensionSettings {
  /** WEBSOCKET_BROADCAST_INTERVAL, seconds (0.5..300, default 3). */
  broadcastIntervalS: number;
  /** WEBSOCKET_MAX_ALERTS_PER_S (1..100000, default 200). */
  maxAlertsPerSecond: number;
  /** PCAP_JOB_CONCURRENCY (1..64, default 1). */
  pcapConcurrency: number;
  /** VIGIL_TEST_ROUTES, else on only with NODE_ENV=development. */
  testRoutes: boolean;
}

function num(env: Env, name: string, dflt: number, min: number, max: number, int: boolean): number {
  const v = env[name];
  if (v === undefined || v.trim() === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n)))
    throw new ConfigError(`${name} must be ${int ? 'an integer' : 'a number'} from ${min} to ${max}, got "${v}"`);
  return n;
}

export function extensionSettingsFromEnv(env: Env = process.env): ExtensionSettings {
  let testRoutes: boolean;
  try {
    testRoutes = testRoutesEnabled(env);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  return {
    broadcastIntervalS: num(env, 'WEBSOCKET_BROADCAST_INTERVAL', DEFAULT_BROADCAST_INTERVAL_S, 0.5, 300, false),
    maxAlertsPerSecond: num(env, 'WEBSOCKET_MAX_ALERTS_PER_S', DEFAULT_MAX_ALERTS_PER_S, 1, 100_000, true),
    pcapConcurrency: num(env, 'PCAP_JOB_CONCURRENCY', 1, 1, 64, true),
    testRoutes,
  };
}

export interface ServeExtensions {
  hub: ServerHub;
  extensions: ServerExtension[];
  captureStatus: () => CaptureStatus;
  pcap: ReturnType<typeof pcapExtension>;
  live: ReturnType<typeof liveCaptureExtension>;
  realtime: ReturnType<typeof realtimeExtension>;
}

export interface ServeExtensionOptions {
  env?: Env;
  settings?: Partial<ExtensionSettings>;
  /** Tests: passed to the PCAP and live extensions. */
  pcap?: Partial<Omit<PcapExtensionOptions, 'hub'>>;
  live?: Partial<Omit<LiveExtensionOptions, 'hub' | 'enabled' | 'interface'>>;
  /** Tests: how often socket tokens are checked again. */
  revalidateMs?: number;
}

/** Everything `vigil serve` plugs into buildServer (`extensions` and `captureStatus`). */
export function serveExtensions(cfg: ServerConfig, o: ServeExtensionOptions = {}): ServeExtensions {
  const env = o.env ?? process.env;
  const s = { ...extensionSettingsFromEnv(env), ...o.settings };
  const hub = new ServerHub();
  const pcap = pcapExtension({ hub, concurrency: s.pcapConcurrency, ...o.pcap });
  const live = liveCaptureExtension({
    hub,
    enabled: cfg.capture.enabled,
    interface: cfg.capture.interface,
    env,
    ...o.live,
  });
  const realtime = realtimeExtension({
    hub,
    broadcastIntervalS: s.broadcastIntervalS,
    maxAlertsPerSecond: s.maxAlertsPerSecond,
    pcapQueue: () => pcap.queue()?.counts() ?? null,
    ...(o.revalidateMs !== undefined ? { revalidateMs: o.revalidateMs } : {}),
  });
  // Closed in reverse: Socket.IO first, then capture (flushes its alerts), then the PCAP jobs.
  const extensions: ServerExtension[] = [pcap];
  if (s.testRoutes) extensions.push(testRoutesExtension({ hub }));
  extensions.push(live, realtime);
  return { hub, extensions, captureStatus: live.status, pcap, live, realtime };
}
