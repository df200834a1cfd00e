/**
 * Live capture for real: tcpdump on the loopback interface, traffic made by this test (bounded),
 * decoded by the packet engine with the built-in rules. Needs tcpdump and the right to capture
 * (root, or cap_net_raw,cap_net_admin on tcpdump); skipped otherwise, with the probe's reason.
 * Waits on events only; the guard timers fail the test instead of hanging it.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { LiveCapture, probeCapture } from '../../src/capture/live.js';
import type { LiveCaptureStats } from '../../src/capture/live.js';
import { startLiveSensor } from '../../src/pipeline/live-sensor.js';
import type { AlertRecord } from '../../src/detect/engine/detector.js';
import { tempDir } from '../helpers/paths.js';

const probe = await probeCapture({ interface: 'lo' });
const skip = probe.available ? false : `live capture unavailable here: ${probe.reason} (${probe.message})`;

/** Resolve when `cond` holds after an event, or reject after `ms` (a failure guard, not a sleep). */
function until<T>(what: string, ms: number, register: (done: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    register((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

test('UDP datagrams on lo are captured whole and counted by the kernel counters', { skip }, async () => {
  const N = 200;
  const rx = dgram.createSocket('udp4');
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  const port = (rx.address() as AddressInfo).port;
  rx.on('message', () => undefined);
  let packets = 0;
  let marked = 0;
  let onCount: (() => void) | null = null;
  let onRunning: ((s: LiveCaptureStats) => void) | null = null;
  const marker = Buffer.from('vigil-live-test');
  const cap = new LiveCapture({
    params: { interface: 'lo', filter: `udp and dst port ${port}`, immediate: true },
    countersIntervalMs: 0,
    onState: (s) => {
      if (s.state === 'running') onRunning?.(s);
    },
    onBatch: (b) => {
      for (let i = 0; i < b.count; i++) {
        packets++;
        // Ethernet (14) + IPv4 (20) + UDP (8) precede the payload on lo.
        const off = b.off[i]! + 42;
        if (b.buf.subarray(off, off + marker.length).equals(marker)) marked++;
      }
      if (packets >= N) onCount?.();
    },
  });
  try {
    const running = until<LiveCaptureStats>('capture to start', 10_000, (done) => (onRunning = done));
    cap.start();
    const st = await running;
    assert.equal(st.linkType, 'EN10MB');
    const all = until<void>(`${N} packets`, 15_000, (done) => (onCount = () => done()));
    const tx = dgram.createSocket('udp4');
    for (let i = 0; i < N; i++) {
      await new Promise<void>((r, j) =>
        tx.send(Buffer.concat([marker, Buffer.from(` ${i}`)]), port, '127.0.0.1', (e) => (e ? j(e) : r())),
      );
    }
    tx.close();
    await all;
  } finally {
    await cap.stop();
    rx.close();
  }
  const s = cap.stats();
  assert.equal(packets, N, 'exactly the datagrams sent (the filter keeps others out)');
  assert.equal(marked, N, 'payload bytes intact');
  assert.equal(s.state, 'stopped');
  assert.equal(s.packets, N);
  assert.ok(s.kernel.received >= N, `kernel counted ${s.kernel.received} packets`);
  assert.equal(s.kernel.dropped, 0);
});

test('an SQL injection over HTTP on lo raises a sql_injection alert from the built-in rules', { skip }, async () => {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const alerts: AlertRecord[] = [];
  let onAlert: ((a: AlertRecord) => void) | null = null;
  let onRunning: (() => void) | null = null;
  const sensor = startLiveSensor({
    interface: 'lo',
    filter: `tcp port ${port}`,
    params: { immediate: true },
    statsIntervalMs: 0,
    onStats: (s) => {
      if (s.capture.state === 'running') onRunning?.();
    },
    onAlert: (a) => {
      alerts.push(a);
      if (a.vigilType === 'sql_injection') onAlert?.(a);
    },
  });
  try {
    await until<void>('capture to start', 10_000, (done) => {
      if (sensor.stats().capture.state === 'running') done();
      else onRunning = () => done();
    });
    const gotAlert = until<AlertRecord>('the sql_injection alert', 15_000, (done) => (onAlert = done));
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get(
          {
            host: '127.0.0.1',
            port,
            path: '/item?id=1%20UNION%20SELECT%20username,password%20FROM%20users--',
            agent: false,
          },
          (res) => {
            let d = '';
            res.on('data', (c: Buffer) => (d += c.toString()));
            res.on('end', () => resolve(d));
          },
        )
        .on('error', reject);
    });
    assert.equal(body, 'ok');
    const a = await gotAlert;
    assert.equal(a.srcIp, '127.0.0.1');
    assert.equal(a.dstPort, port);
    assert.match(a.msg, /SQL injection/);
  } finally {
    await sensor.stop();
    await new Promise<void>((r) => server.close(() => r()));
  }
  const s = sensor.stats();
  assert.ok(s.engine.packets >= 6, `engine saw ${s.engine.packets} packets (handshake, request, response, close)`);
  assert.ok((s.engine.protocols['tcp'] ?? 0) >= 6);
  assert.ok(s.engine.alerts >= 1);
  assert.equal(s.engine.errors, 0);
  assert.ok(s.engine.flows_total >= 1, 'the flow ended at stop');
});

test('interface "any": Linux cooked (SLL2) frames decode to UDP in the engine', { skip }, async () => {
  const N = 20;
  const rx = dgram.createSocket('udp4');
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  rx.on('message', () => undefined);
  const port = (rx.address() as AddressInfo).port;
  let packets = 0;
  let onAll: (() => void) | null = null;
  let onRunning: (() => void) | null = null;
  const sensor = startLiveSensor({
    interface: 'any',
    filter: `udp and dst port ${port}`,
    params: { immediate: true },
    statsIntervalMs: 0,
    onStats: (s) => {
      if (s.capture.state === 'running') onRunning?.();
    },
    onPackets: (n) => {
      packets += n;
      if (packets >= N) onAll?.();
    },
  });
  try {
    await until<void>('capture to start', 10_000, (done) => {
      if (sensor.stats().capture.state === 'running') done();
      else onRunning = () => done();
    });
    const all = until<void>(`${N} packets`, 15_000, (done) => (onAll = () => done()));
    const tx = dgram.createSocket('udp4');
    for (let i = 0; i < N; i++)
      await new Promise<void>((r, j) => tx.send(`datagram ${i}`, port, '127.0.0.1', (e) => (e ? j(e) : r())));
    tx.close();
    await all;
  } finally {
    await sensor.stop();
    rx.close();
  }
  const s = sensor.stats();
  assert.equal(s.capture.linkType, 'LINUX_SLL2');
  assert.equal(s.engine.packets, N, 'each datagram once on "any"');
  assert.equal(s.engine.protocols['udp'], N);
  assert.equal(s.engine.flows_total, 1);
});

test('unavailable capture says why: no such interface, invalid filter, no tool, no privileges', { skip }, async () => {
  assert.deepEqual(await probeCapture({ interface: 'nosuchif0' }), {
    available: false,
    reason: 'no_such_interface',
    message: 'tcpdump: nosuchif0: No such device exists',
  });
  const badFilter = await probeCapture({ interface: 'lo', filter: 'tcp port' });
  assert.equal(badFilter.available ? '' : badFilter.reason, 'invalid_filter');
  const noTool = await probeCapture({ interface: 'lo', tcpdumpPath: '/nonexistent/tcpdump' });
  assert.equal(noTool.available ? '' : noTool.reason, 'libpcap_unavailable');

  // The supervisor reaches the same verdicts from a real start.
  const states: LiveCaptureStats[] = [];
  let onEnd: ((s: LiveCaptureStats) => void) | null = null;
  const c1 = new LiveCapture({
    params: { interface: 'nosuchif0' },
    retry: { maxRetries: 0 },
    onBatch: () => undefined,
    onState: (s) => {
      states.push(s);
      if (s.state === 'failed' || s.state === 'unavailable') onEnd?.(s);
    },
  });
  const end1 = until<LiveCaptureStats>('nosuchif0 to fail', 10_000, (done) => (onEnd = done));
  c1.start();
  const s1 = await end1;
  assert.equal(s1.state, 'failed');
  assert.equal(s1.reason, 'no_such_interface');
  assert.equal(s1.message, 'tcpdump: nosuchif0: No such device exists');
  assert.equal(states[0]!.state, 'starting');

  // Without privileges: tcpdump run as nobody through a wrapper (root can drop them; others skip).
  const dir = tempDir('vigil-live-');
  try {
    const wrapper = path.join(dir, 'tcpdump-nobody');
    fs.writeFileSync(wrapper, '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups tcpdump "$@"\n', {
      mode: 0o755,
    });
    const np = await probeCapture({ interface: 'lo', tcpdumpPath: wrapper });
    if (process.getuid?.() === 0) assert.equal(np.available ? '' : np.reason, 'no_privileges');
    let onEnd2: ((s: LiveCaptureStats) => void) | null = null;
    const c2 = new LiveCapture({
      params: { interface: 'lo', tcpdumpPath: wrapper },
      onBatch: () => undefined,
      onState: (s) => {
        if (s.state === 'failed' || s.state === 'unavailable') onEnd2?.(s);
      },
    });
    if (process.getuid?.() === 0) {
      const end2 = until<LiveCaptureStats>('unprivileged capture to give up', 10_000, (done) => (onEnd2 = done));
      c2.start();
      const s2 = await end2;
      assert.equal(s2.state, 'unavailable', 'not retried: only a configuration change helps');
      assert.equal(s2.reason, 'no_privileges');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Network namespaces need root (CAP_SYS_ADMIN) and iproute2. */
const netnsSkip = ((): string | false => {
  if (skip !== false) return skip;
  const probeNs = `vigil-probe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probeNs], { encoding: 'utf8' });
  if (r.status !== 0) return `cannot create a network namespace: ${(r.stderr ?? r.error?.message ?? '').trim()}`;
  spawnSync('ip', ['netns', 'del', probeNs]);
  return false;
})();

test(
  'veth between two namespaces: a down interface is retried and captured once it is up',
  { skip: netnsSkip },
  async () => {
    const a = `vigil-a-${process.pid}`;
    const b = `vigil-b-${process.pid}`;
    const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'pipe' });
    const dir = tempDir('vigil-live-');
    let cap: LiveCapture | null = null;
    try {
      ip('netns', 'add', a);
      ip('netns', 'add', b);
      ip('-n', a, 'link', 'add', 'vg0', 'type', 'veth', 'peer', 'name', 'vg1', 'netns', b);
      ip('-n', a, 'addr', 'add', '10.99.0.1/24', 'dev', 'vg0');
      ip('-n', b, 'addr', 'add', '10.99.0.2/24', 'dev', 'vg1');
      ip('-n', b, 'link', 'set', 'vg1', 'up');
      // tcpdump runs inside namespace a through a wrapper.
      const wrapper = path.join(dir, 'tcpdump-ns');
      fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${a} tcpdump "$@"\n`, { mode: 0o755 });
      const N = 25;
      let packets = 0;
      let udp = 0;
      const states: string[] = [];
      let onRestarting: (() => void) | null = null;
      let onRunning: (() => void) | null = null;
      let onAll: (() => void) | null = null;
      cap = new LiveCapture({
        params: { interface: 'vg0', filter: 'udp port 9999', tcpdumpPath: wrapper, immediate: true },
        retry: { maxRetries: 5, initialDelayS: 0.05, factor: 2 },
        countersIntervalMs: 0,
        onState: (s) => {
          states.push(`${s.state}${s.reason !== null ? `:${s.reason}` : ''}`);
          if (s.state === 'restarting') onRestarting?.();
          if (s.state === 'running') onRunning?.();
        },
        onBatch: (batch) => {
          for (let i = 0; i < batch.count; i++) {
            packets++;
            // Ethernet: EtherType IPv4 at 12, IP protocol at 14 + 9.
            const o = batch.off[i]!;
            if (batch.buf.readUInt16BE(o + 12) === 0x0800 && batch.buf[o + 23] === 17) udp++;
          }
          if (packets >= N) onAll?.();
        },
      });
      const restarting = until<void>(
        'the down interface to be reported',
        10_000,
        (done) => (onRestarting = () => done()),
      );
      cap.start();
      await restarting;
      assert.equal(cap.stats().reason, 'interface_down');
      assert.match(cap.stats().message ?? '', /vg0: That device is not up/);
      const running = until<void>(
        'capture to start after the interface came up',
        10_000,
        (done) => (onRunning = () => done()),
      );
      ip('-n', a, 'link', 'set', 'vg0', 'up');
      await running;
      const all = until<void>(`${N} packets`, 15_000, (done) => (onAll = () => done()));
      // Sender inside namespace a: N datagrams to the peer in namespace b, over the veth.
      const sender = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          a,
          process.execPath,
          '-e',
          `const d=require('dgram').createSocket('udp4');let i=0;const f=()=>i<${N}?d.send('x'+i++,9999,'10.99.0.2',f):d.close();f();`,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(sender.status, 0, sender.stderr);
      await all;
      await cap.stop();
      const s = cap.stats();
      assert.equal(s.linkType, 'EN10MB');
      assert.equal(packets, N);
      assert.equal(udp, N);
      assert.ok(s.restarts >= 1);
      assert.equal(states[0], 'starting');
      assert.ok(states.includes('restarting:interface_down'), states.join(' '));
      assert.equal(states.at(-1), 'stopped');
    } finally {
      await cap?.stop();
      spawnSync('ip', ['netns', 'del', a]);
      spawnSync('ip', ['netns', 'del', b]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
