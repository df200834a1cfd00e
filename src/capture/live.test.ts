import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PacketBatch } from './batch.js';
import {
  LiveCapture,
  LiveCaptureError,
  PcapStreamParser,
  backoffDelayS,
  classifyTcpdumpError,
  liveConfigFromEnv,
  parseTcpdumpCounters,
  tcpdumpArgs,
  DEFAULT_PARAMS,
  DEFAULT_RETRY,
} from './live.js';
import type { KernelCounters, SessionHandlers, SessionOpener, Timers } from './live.js';

/** A pcap stream: file header (little-endian µs, LINKTYPE_ETHERNET) and records of the given sizes. */
function pcapStream(sizes: number[], opts: { be?: boolean; nanos?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, o: number): void => void (opts.be ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
  const w16 = (b: Buffer, v: number, o: number): void => void (opts.be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  w32(h, opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0); // magic
  w16(h, 2, 4); // version 2.4
  w16(h, 4, 6);
  w32(h, 65535, 16); // snaplen
  w32(h, 1, 20); // LINKTYPE_ETHERNET
  parts.push(h);
  sizes.forEach((len, i) => {
    const r = Buffer.alloc(16);
    w32(r, 1_700_000_000 + i, 0); // ts_sec
    w32(r, opts.nanos ? 123_456_789 : 123_456, 4); // ts_usec or ts_nsec
    w32(r, len, 8); // caplen
    w32(r, len + 10, 12); // origlen (snapped)
    parts.push(r, Buffer.alloc(len, i + 1)); // payload bytes = record number
  });
  return Buffer.concat(parts);
}

interface Seen {
  len: number;
  orig: number;
  ts: number;
  first: number;
  link: number;
}

function feed(p: PcapStreamParser, chunks: Buffer[], capacity = 1024): Seen[] {
  const out: Seen[] = [];
  const batch = new PacketBatch(capacity);
  for (const c of chunks) {
    p.push(c, batch, (b) => {
      for (let i = 0; i < b.count; i++)
        out.push({
          len: b.capLen[i]!,
          orig: b.origLen[i]!,
          ts: b.tsUs[i]!,
          first: b.buf[b.off[i]!]!,
          link: b.linkType[i]!,
        });
    });
  }
  return out;
}

test('stream parser: records split at every byte boundary come out whole and in order', () => {
  const sizes = [60, 1, 1500, 0, 74];
  const s = pcapStream(sizes);
  for (let cut = 1; cut < s.length; cut++) {
    const p = new PcapStreamParser();
    const got = feed(p, [s.subarray(0, cut), s.subarray(cut)]);
    assert.deepEqual(
      got.map((g) => g.len),
      sizes,
      `cut at ${cut}`,
    );
    assert.equal(p.error, null);
    assert.equal(p.pendingBytes, 0);
  }
  // Byte by byte, and a batch smaller than the chunk (several onBatch calls per chunk).
  const p = new PcapStreamParser();
  const one = feed(
    p,
    [...s].map((b) => Buffer.from([b])),
  );
  assert.equal(one.length, sizes.length);
  const small = feed(new PcapStreamParser(), [s], 2);
  assert.deepEqual(
    small.filter((g) => g.len > 0).map((g) => g.first),
    [1, 2, 3, 5],
    'payload bytes (the empty record has none to read)',
  );
  assert.equal(small.length, 5);
  assert.equal(small[0]!.orig, 70);
  assert.equal(small[0]!.ts, 1_700_000_000 * 1e6 + 123_456);
  assert.equal(small[0]!.link, 1);
  assert.equal(p.position, s.length);
});

test('stream parser: big-endian nanosecond pcap', () => {
  const p = new PcapStreamParser();
  const got = feed(p, [pcapStream([40, 41], { be: true, nanos: true })]);
  assert.equal(got.length, 2);
  assert.equal(got[1]!.ts, 1_700_000_001 * 1e6 + 123_456);
  assert.equal(p.linkType, 1);
});

test('stream parser: not pcap, and a corrupt record, stop it with a reason', () => {
  const p = new PcapStreamParser();
  assert.equal(feed(p, [Buffer.from('0a0d0d0a' + '00'.repeat(40), 'hex')]).length, 0);
  assert.match(p.error ?? '', /not pcap/);
  const s = pcapStream([60, 60]);
  s.writeUInt32LE(70_000_000, 24 + 16 + 60 + 8); // second record: caplen far beyond any snaplen
  const q = new PcapStreamParser();
  assert.equal(feed(q, [s]).length, 1, 'the record before the damage');
  assert.match(q.error ?? '', /corrupt pcap record at offset 100/);
  assert.equal(feed(q, [pcapStream([10]).subarray(24)]).length, 0, 'nothing after an error');
});

test('tcpdump counters: the SIGUSR1 report and the exit summary', () => {
  const c: KernelCounters = { received: 0, dropped: 0, ifdropped: 0 };
  assert.ok(
    parseTcpdumpCounters(
      'tcpdump: 120 packets captured, 125 packets received by filter, 5 packets dropped by kernel, 2 packets dropped by interface',
      c,
    ),
  );
  assert.deepEqual(c, { received: 125, dropped: 5, ifdropped: 2 });
  const d: KernelCounters = { received: 0, dropped: 0, ifdropped: 0 };
  for (const l of ['1 packet captured', '1 packet received by filter', '0 packets dropped by kernel'])
    parseTcpdumpCounters(l, d);
  assert.deepEqual(d, { received: 1, dropped: 0, ifdropped: 0 });
  assert.equal(parseTcpdumpCounters('tcpdump: listening on lo, link-type EN10MB', d), false);
});

test('tcpdump errors map to machine-readable reasons', () => {
  const cases: [string, string][] = [
    ['tcpdump: nosuchif: No such device exists\n(No such device exists)', 'no_such_interface'],
    [
      "tcpdump: lo: You don't have permission to perform this capture on that device\n(socket: Operation not permitted)",
      'no_privileges',
    ],
    ["tcpdump: can't parse filter expression: syntax error", 'invalid_filter'],
    ['tcpdump: eth9: That device is not up', 'interface_down'],
    [
      'tcpdump: error while loading shared libraries: libpcap.so.0.8: cannot open shared object file',
      'libpcap_unavailable',
    ],
    ['tcpdump: something else entirely', 'capture_failed'],
  ];
  for (const [msg, reason] of cases) assert.equal(classifyTcpdumpError(msg), reason, msg);
});

test('tcpdump argv: the filter comes after "--" so it can never be read as an option', () => {
  const args = tcpdumpArgs({ ...DEFAULT_PARAMS, interface: 'lo', filter: '-w /etc/passwd' });
  assert.deepEqual(args.slice(-2), ['--', '-w /etc/passwd']);
  assert.ok(args.includes('-U'));
  assert.deepEqual(tcpdumpArgs({ ...DEFAULT_PARAMS, interface: 'lo', filter: '  ' }).includes('--'), false);
  assert.ok(tcpdumpArgs({ ...DEFAULT_PARAMS, interface: 'lo', filter: 'udp' }, true).includes('-d'));
});

test('configuration from the environment', () => {
  const d = liveConfigFromEnv({});
  assert.equal(d.params.interface, 'any');
  assert.deepEqual(d.retry, DEFAULT_RETRY);
  const c = liveConfigFromEnv({
    CAPTURE_INTERFACE: 'eth0',
    CAPTURE_FILTER: 'tcp port 80',
    SNIFFER_RETRY_MAX: '3',
    SNIFFER_RETRY_DELAY: '0.5',
    SNIFFER_RETRY_BACKOFF: '3',
    CAPTURE_BUFFER_MB: '8',
  });
  assert.equal(c.params.filter, 'tcp port 80');
  assert.equal(c.params.bufferKiB, 8192);
  assert.deepEqual([c.retry.maxRetries, c.retry.initialDelayS, c.retry.factor], [3, 0.5, 3]);
  for (const env of [{ SNIFFER_RETRY_MAX: '-1' }, { SNIFFER_RETRY_BACKOFF: 'x' }, { CAPTURE_INTERFACE: 'a b' }]) {
    assert.throws(
      () => liveConfigFromEnv(env),
      (e: unknown) => e instanceof LiveCaptureError && e.reason === 'invalid_config' && /^[A-Z_]+/.test(e.message),
    );
  }
  assert.deepEqual(
    [1, 2, 3, 4, 10].map((n) => backoffDelayS({ ...DEFAULT_RETRY, initialDelayS: 1, factor: 2, maxDelayS: 5 }, n)),
    [1, 2, 4, 5, 5],
  );
});

/** Timers under the test's control: nothing fires until `fire()`. */
class FakeTimers implements Timers {
  t = 1_000_000;
  pending: { fn: () => void; at: number; id: number }[] = [];
  private seq = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.push({ fn, at: this.t + ms, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== h);
  }
  /** Run the next timer, advancing the clock to it; returns the delay it waited. */
  fire(): number {
    this.pending.sort((a, b) => a.at - b.at);
    const next = this.pending.shift();
    assert.ok(next, 'a timer is pending');
    const waited = next.at - this.t;
    this.t = next.at;
    next.fn();
    return waited;
  }
}

/** An opener whose sessions the test drives by hand. */
function fakeOpener(): { opener: SessionOpener; sessions: { h: SessionHandlers; stopped: boolean }[] } {
  const sessions: { h: SessionHandlers; stopped: boolean }[] = [];
  const opener: SessionOpener = (_p, h) => {
    const s = { h, stopped: false };
    sessions.push(s);
    return {
      requestCounters: () => h.onCounters({ received: 10, dropped: 1, ifdropped: 0 }),
      stop: () => {
        s.stopped = true;
        h.onExit(null);
      },
    };
  };
  return { opener, sessions };
}

test('supervisor: exponential backoff, give up after maxRetries, no sleeps', () => {
  const timers = new FakeTimers();
  const { opener, sessions } = fakeOpener();
  const states: string[] = [];
  const cap = new LiveCapture({
    params: { interface: 'veth9' },
    retry: { maxRetries: 3, initialDelayS: 1, factor: 2, maxDelayS: 60 },
    onBatch: () => undefined,
    onState: (s) => states.push(s.state),
    countersIntervalMs: 0,
    opener,
    timers,
  });
  cap.start();
  const fail = (): void =>
    sessions.at(-1)!.h.onExit(new LiveCaptureError('no_such_interface', 'veth9: No such device exists'));
  fail();
  assert.equal(cap.stats().state, 'restarting');
  assert.equal(cap.stats().reason, 'no_such_interface');
  assert.equal(cap.stats().nextRetryAt, timers.t + 1000);
  const waits: number[] = [];
  for (let i = 0; i < 3; i++) {
    waits.push(timers.fire());
    fail();
  }
  assert.deepEqual(waits, [1000, 2000, 4000]);
  assert.equal(sessions.length, 4, 'first start + 3 retries');
  const s = cap.stats();
  assert.equal(s.state, 'failed');
  assert.equal(s.reason, 'no_such_interface');
  assert.equal(s.message, 'veth9: No such device exists');
  assert.equal(s.restarts, 3);
  assert.equal(timers.pending.length, 0, 'no retry after giving up');
  assert.deepEqual(states.slice(0, 3), ['starting', 'restarting', 'starting']);
});

test('supervisor: a session that ran long enough resets the attempt count; stop cancels a pending retry', async () => {
  const timers = new FakeTimers();
  const { opener, sessions } = fakeOpener();
  const cap = new LiveCapture({
    params: { interface: 'lo' },
    retry: { maxRetries: 2, initialDelayS: 1, factor: 2, resetAfterS: 60 },
    onBatch: () => undefined,
    countersIntervalMs: 0,
    opener,
    timers,
  });
  cap.start();
  const crash = (): void =>
    sessions.at(-1)!.h.onExit(new LiveCaptureError('capture_failed', 'tcpdump exited (SIGSEGV)'));
  crash();
  assert.equal(timers.fire(), 1000);
  sessions.at(-1)!.h.onListening({ linkType: 'EN10MB' });
  assert.equal(cap.stats().state, 'running');
  timers.t += 120_000; // ran two minutes
  sessions.at(-1)!.h.onCounters({ received: 7, dropped: 2, ifdropped: 1 });
  crash();
  assert.equal(cap.stats().attempts, 1, 'counted from scratch');
  assert.equal(timers.fire(), 1000, 'the first delay again');
  crash(); // a quick failure: attempt 2
  assert.equal(cap.stats().attempts, 2);
  assert.equal(cap.stats().kernel.dropped, 2, 'counters of ended sessions are kept');
  await cap.stop();
  assert.equal(cap.stats().state, 'stopped');
  assert.equal(timers.pending.length, 0);
  assert.equal(cap.stats().reason, null);
});

test('supervisor: failures no retry can cure go straight to unavailable', () => {
  for (const reason of ['no_privileges', 'libpcap_unavailable', 'invalid_filter'] as const) {
    const timers = new FakeTimers();
    const { opener, sessions } = fakeOpener();
    const cap = new LiveCapture({
      params: { interface: 'lo' },
      onBatch: () => undefined,
      opener,
      timers,
      countersIntervalMs: 0,
    });
    cap.start();
    sessions[0]!.h.onExit(new LiveCaptureError(reason, 'x'));
    assert.equal(cap.stats().state, 'unavailable');
    assert.equal(cap.stats().reason, reason);
    assert.equal(timers.pending.length, 0);
  }
  // An invalid name never reaches the tool.
  const { opener, sessions } = fakeOpener();
  const cap = new LiveCapture({
    params: { interface: '-w' },
    onBatch: () => undefined,
    opener,
    timers: new FakeTimers(),
  });
  cap.start();
  assert.equal(sessions.length, 0);
  assert.equal(cap.stats().reason, 'no_such_interface');
});

test('supervisor: batches and stop with final counters', async () => {
  const { opener, sessions } = fakeOpener();
  let got = 0;
  const cap = new LiveCapture({
    params: { interface: 'lo' },
    onBatch: (b) => (got += b.count),
    opener,
    timers: new FakeTimers(),
    countersIntervalMs: 0,
  });
  cap.start();
  const h = sessions[0]!.h;
  h.onListening({ linkType: 'EN10MB' });
  const b = new PacketBatch(4);
  b.count = 3;
  b.capLen.set([60, 70, 80]);
  h.onBatch(b);
  cap.refreshCounters();
  assert.equal(got, 3);
  const s = cap.stats();
  assert.deepEqual([s.packets, s.bytes, s.kernel.received, s.kernel.dropped, s.linkType], [3, 210, 10, 1, 'EN10MB']);
  await cap.stop();
  assert.ok(sessions[0]!.stopped);
  assert.equal(cap.stats().kernel.received, 10);
});

test('a missing capture tool: unavailable, libpcap_unavailable, from a real spawn', async () => {
  const s = await new Promise<{ state: string; reason: string | null }>((resolve) => {
    const cap = new LiveCapture({
      params: { interface: 'lo', tcpdumpPath: '/nonexistent/vigil-tcpdump' },
      onBatch: () => undefined,
      onState: (st) => {
        if (st.state === 'unavailable' || st.state === 'failed') resolve(st);
      },
    });
    cap.start();
  });
  assert.deepEqual([s.state, s.reason], ['unavailable', 'libpcap_unavailable']);
});
