/**
 * Worker-thread entry of the live sensor (src/pipeline/live-thread.ts starts it): the supervised
 * tcpdump capture and the packet engine run here, so a flood keeps this thread busy and not the
 * server's. Alerts, flows and counters go back to the main thread in one `update` per turn of this
 * thread's event loop; `stop` ends capture, finishes every flow and sends what they raised before
 * `stopped`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AppRecord } from '../applayer/app-layer.js';
import { PacketBatch } from '../capture/batch.js';
import { LiveCaptureError, tcpdumpOpener } from '../capture/live.js';
import type { SessionHandlers, SessionOpener } from '../capture/live.js';
import type { AlertRecord } from '../detect/engine/detector.js';
import type { FlowRecord } from '../flow/table.js';
// The worker is the sensor thread's entry point: it wires the file store (an output) to the engine.
import { FileStore } from '../output/filestore.js';
import { storeAppFiles } from '../output/filestore-app.js';
import { startLiveSensor } from './live-sensor.js';
import type { LiveSensor } from './live-sensor.js';
import type {
  FromLiveWorker,
  LiveSnapshot,
  LiveWorkerInit,
  ToLiveWorker,
  UpdateCause,
} from './live-worker-protocol.js';

const init = workerData as LiveWorkerInit;
const maybePort = parentPort;
if (maybePort === null) throw new Error('live-worker.ts must run in a worker thread');
const port = maybePort;
const post = (m: FromLiveWorker): void => port.postMessage(m);

/** Results are flushed at the end of the turn, or at once past this many (bounds a message). */
const MAX_PENDING = 4096;

let alerts: AlertRecord[] = [];
let flows: FlowRecord[] = [];
let apps: AppRecord[] = [];
let packets = 0;
let scheduled = false;
let sensor: LiveSensor | null = null;

const snapshot = (): LiveSnapshot => ({ stats: sensor!.stats(), counters: sensor!.counters() });

function flush(cause: UpdateCause): void {
  scheduled = false;
  if (sensor === null) return;
  if (cause === 'results' && alerts.length === 0 && flows.length === 0 && apps.length === 0 && packets === 0) return;
  post({ kind: 'update', cause, alerts, flows, apps, packets, snapshot: snapshot() });
  alerts = [];
  flows = [];
  apps = [];
  packets = 0;
}

function pending(): void {
  if (alerts.length + flows.length + apps.length >= MAX_PENDING) flush('results');
  else if (!scheduled) {
    scheduled = true;
    setImmediate(() => flush('results'));
  }
}

// ---- capture sessions: tcpdump here, or relayed from the main thread ---------------------------

/** Reports the tcpdump child's pid, so the main thread can end it if this thread dies. */
const childOpener: SessionOpener = (params, h) => {
  const session = tcpdumpOpener(params, {
    ...h,
    onExit: (failure) => {
      post({ kind: 'child', pid: null });
      h.onExit(failure);
    },
  });
  if (session.pid !== undefined) post({ kind: 'child', pid: session.pid });
  return session;
};

const relayed = new Map<number, SessionHandlers>();
let nextSession = 1;
const relayOpener: SessionOpener = (params, h) => {
  const session = nextSession++;
  relayed.set(session, h);
  post({ kind: 'session-open', session, params });
  return {
    requestCounters: () => post({ kind: 'session-request-counters', session }),
    stop: () => post({ kind: 'session-stop', session }),
  };
};

function onSessionMessage(msg: ToLiveWorker): void {
  if (!('session' in msg)) return;
  const h = relayed.get(msg.session);
  if (h === undefined) return;
  if (msg.kind === 'session-listening') h.onListening({ linkType: msg.linkType });
  else if (msg.kind === 'session-counters') h.onCounters(msg.counters);
  else if (msg.kind === 'session-exit') {
    relayed.delete(msg.session);
    h.onExit(msg.failure === null ? null : new LiveCaptureError(msg.failure.reason, msg.failure.message));
  } else if (msg.kind === 'session-batch') {
    const r = msg.batch;
    const b = new PacketBatch(r.count, Buffer.from(r.buf.buffer, r.buf.byteOffset, r.buf.byteLength));
    b.off.set(r.off.subarray(0, r.count));
    b.capLen.set(r.capLen.subarray(0, r.count));
    b.origLen.set(r.origLen.subarray(0, r.count));
    b.tsUs.set(r.tsUs.subarray(0, r.count));
    b.linkType.set(r.linkType.subarray(0, r.count));
    b.ifIndex.set(r.ifIndex.subarray(0, r.count));
    b.count = r.count;
    h.onBatch(b);
  }
}

// ---- the sensor ------------------------------------------------------------------------------------

const files = init.fileStore !== undefined ? new FileStore(init.fileStore) : null;

try {
  sensor = startLiveSensor({
    interface: init.interface,
    filter: init.filter,
    params: init.params,
    retry: init.retry,
    engineConfig: init.engineConfig,
    statsIntervalMs: init.statsIntervalMs,
    opener: init.relaySessions ? relayOpener : childOpener,
    onAlert: (a) => {
      alerts.push(a);
      pending();
    },
    ...(init.flowSample !== undefined ? { flowSample: init.flowSample } : {}),
    ...(init.flows
      ? {
          onFlow: (f: FlowRecord) => {
            flows.push(f);
            pending();
          },
        }
      : {}),
    ...(init.app || files !== null
      ? {
          onApp: (r: AppRecord) => {
            // Files are written here, so records are cloned to the main thread only when it wants them.
            if (files !== null) storeAppFiles(files, r);
            if (!init.app) return;
            apps.push(r);
            pending();
          },
        }
      : {}),
    onPackets: (n) => {
      packets += n;
      pending();
    },
    // State changes and the periodic stats go out at once (with any results before them).
    onStats: () => flush('stats'),
  });
} catch (e) {
  // Rules or models that do not load: the main thread reports it and does not retry.
  post({ kind: 'fatal', message: e instanceof Error ? e.message : String(e) });
}

if (sensor !== null) {
  const s = sensor;
  port.on('message', (msg: ToLiveWorker) => {
    if (msg.kind === 'stop') {
      // Finishing the engine ends every flow: their alerts go out in the final update.
      const done = (error: string | null): void => {
        flush('final');
        post({ kind: 'stopped', snapshot: snapshot(), error });
      };
      s.stop().then(
        () => done(null),
        // Model scoring that failed at the end: reported; what was raised still goes out.
        (e: unknown) => done(e instanceof Error ? e.message : String(e)),
      );
    } else if (msg.kind === 'reconfigure') {
      s.reconfigure(msg.cfg).then(
        () => {
          flush('results');
          post({ kind: 'reconfigured', id: msg.id, error: null });
        },
        (e: unknown) => post({ kind: 'reconfigured', id: msg.id, error: e instanceof Error ? e.message : String(e) }),
      );
    } else onSessionMessage(msg);
  });
  post({ kind: 'ready', snapshot: snapshot() });
}
