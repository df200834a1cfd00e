import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LINKTYPE, PacketBatch } from '../capture/batch.js';
import type { SessionHandlers, SessionOpener } from '../capture/live.js';
import type { AlertRecord } from '../detect/engine/detector.js';
import type { FlowRecord } from '../flow/table.js';
import { defaultConfig } from './config.js';
import { addSensorStats, startLiveSensorThread } from './live-thread.js';
import type { LiveSensorStats } from './live-sensor.js';

/** An Ethernet/IPv4/UDP frame (checksums zero: not validated by default). */
function udpFrame(src: number, dst: number, sport: number, dport: number, payload: string): Buffer {
  const p = Buffer.from(payload);
  const f = Buffer.alloc(14 + 20 + 8 + p.length);
  f.writeUInt16BE(0x0800, 12); // EtherType IPv4
  f[14] = 0x45; // version 4, IHL 5
  f.writeUInt16BE(20 + 8 + p.length, 16); // total length
  f[22] = 64; // TTL
  f[23] = 17; // protocol UDP
  f.writeUInt32BE(src, 26);
  f.writeUInt32BE(dst, 30);
  f.writeUInt16BE(sport, 34);
  f.writeUInt16BE(dport, 36);
  f.writeUInt16BE(8 + p.length, 38); // UDP length
  p.copy(f, 42);
  return f;
}

function batchOf(frames: Buffer[], t0: number): PacketBatch {
  const b = new PacketBatch(frames.length, Buffer.concat(frames));
  let off = 0;
  frames.forEach((f, i) => {
    b.off[i] = off;
    b.capLen[i] = f.length;
    b.origLen[i] = f.length;
    b.tsUs[i] = t0 + i;
    b.linkType[i] = LINKTYPE.ETHERNET;
    off += f.length;
  });
  b.count = frames.length;
  return b;
}

test('addSensorStats: counters of earlier workers add up, the current state stays', () => {
  const s = (packets: number, state: 'running' | 'stopped'): LiveSensorStats => ({
    capture: {
      state,
      interface: 'lo',
      filter: '',
      reason: null,
      message: null,
      linkType: 'EN10MB',
      packets,
      bytes: packets * 100,
      kernel: { received: packets, dropped: 1, ifdropped: 0 },
      restarts: 0,
      batchErrors: 0,
      lastBatchError: null,
      attempts: 0,
      startedAt: null,
      nextRetryAt: null,
    },
    engine: {
      packets,
      bytes: packets * 100,
      flows_active: packets,
      flows_total: 2,
      alerts: 1,
      protocols: { udp: packets },
      decoder_events: {},
      errors: 0,
      last_error: null,
    },
  });
  const sum = addSensorStats(s(10, 'stopped'), s(5, 'running'));
  assert.equal(sum.capture.state, 'running');
  assert.equal(sum.capture.packets, 15);
  assert.equal(sum.capture.kernel.dropped, 2);
  assert.equal(sum.engine.flows_active, 5, 'active flows are the current worker’s');
  assert.equal(sum.engine.flows_total, 4);
  assert.deepEqual(sum.engine.protocols, { udp: 15 });
});

test('a worker-run sensor: batched results, flows and stats on this thread; stop delivers the last flows', async () => {
  let h: SessionHandlers | null = null;
  let onOpen: () => void = () => undefined;
  const opened = new Promise<void>((r) => (onOpen = r));
  let sessionStopped = false;
  const opener: SessionOpener = (_p, handlers) => {
    h = handlers;
    onOpen();
    return {
      requestCounters: () => undefined,
      stop: () => {
        sessionStopped = true;
        handlers.onExit(null);
      },
    };
  };
  const flows: FlowRecord[] = [];
  const alerts: AlertRecord[] = [];
  const packetCalls: number[] = [];
  const states: string[] = [];
  const cfg = defaultConfig();
  cfg.ml.enabled = false;
  const sensor = startLiveSensorThread({
    interface: 'eth-test',
    opener,
    engineConfig: cfg,
    statsIntervalMs: 0,
    onFlow: (f) => flows.push(f),
    onAlert: (a) => alerts.push(a),
    onPackets: (n) => packetCalls.push(n),
    onStats: (s) => states.push(s.capture.state),
  });
  await opened;
  h!.onListening({ linkType: 'EN10MB' });
  const t0 = Date.now() * 1000;
  // 3 UDP flows, 40 packets, in 4 batches.
  for (let k = 0; k < 4; k++) {
    const frames: Buffer[] = [];
    for (let i = 0; i < 10; i++) frames.push(udpFrame(0x0a000001, 0x0a000002, 40000 + ((k * 10 + i) % 3), 53, `q${i}`));
    h!.onBatch(batchOf(frames, t0 + k * 100));
  }
  h!.onCounters({ received: 40, dropped: 2, ifdropped: 0 });
  const st = await sensor.waitFor((s) => s.engine.packets === 40 && s.capture.kernel.dropped === 2);
  assert.equal(st.engine.flows_active, 3);
  assert.equal(st.engine.protocols['udp'], 40);
  assert.equal(
    packetCalls.reduce((a, b) => a + b, 0),
    40,
  );
  assert.equal(flows.length, 0, 'no flow has ended yet');
  await sensor.stop();
  assert.equal(sessionStopped, true);
  assert.equal(flows.length, 3, 'stop finished every flow and delivered it before resolving');
  assert.equal(
    flows.reduce((a, f) => a + f.pktsToServer + f.pktsToClient, 0),
    40,
  );
  assert.equal(sensor.worker, null);
  assert.equal(sensor.stats().capture.state, 'stopped');
  assert.equal(sensor.counters().packets, 40);
  assert.equal(states.at(-1), 'stopped');
  assert.equal(alerts.length, 0);
  await assert.rejects(sensor.reconfigure(cfg), /stopped/);
});

test('a worker that dies past the retry limit leaves the sensor failed with the reason; stop still resolves', async () => {
  let onOpen: () => void = () => undefined;
  const opened = new Promise<void>((r) => (onOpen = r));
  const opener: SessionOpener = (_p, handlers) => {
    onOpen();
    return { requestCounters: () => undefined, stop: () => handlers.onExit(null) };
  };
  const cfg = defaultConfig();
  cfg.ml.enabled = false;
  const sensor = startLiveSensorThread({
    interface: 'eth-test',
    opener,
    engineConfig: cfg,
    statsIntervalMs: 0,
    retry: { maxRetries: 0 },
    // The real worker plus test hooks (an injected crash).
    workerUrl: new URL('../../test/helpers/live-worker-hooks.js', import.meta.url),
  });
  await opened;
  sensor.worker!.postMessage({ kind: 'test-crash' });
  const st = await sensor.waitFor((s) => s.capture.state === 'failed');
  assert.equal(st.capture.reason, 'capture_failed');
  assert.match(st.capture.message ?? '', /injected worker crash/);
  assert.equal(sensor.crashes, 1);
  assert.equal(sensor.worker, null);
  await sensor.stop();
  assert.equal(sensor.stats().capture.state, 'failed', 'stop keeps the reason capture ended');
});
