/**
 * Live capture (issue 7, item 2): a `tcpdump -w -` child streams classic pcap through a pipe,
 * parsed here into the same recycled {@link PacketBatch}es the file readers fill, under a
 * supervisor that restarts it with exponential backoff and turns tcpdump's errors into a
 * machine-readable reason (for /api/health).
 *
 * Why a tcpdump child rather than the `cap` binding: bench/capture-live.ts measured both
 * (docs/capture.md); the child is as fast or faster, gives real packet timestamps and the kernel
 * drop counters (ps_drop, ps_ifdrop) that `cap` does not expose, keeps libpcap and its privileges
 * (cap_net_raw) out of the Node process, and needs no native addon build.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { BATCH_PACKETS, PacketBatch } from './batch.js';
import { LiveCaptureError } from './errors.js';
import type { LiveUnavailableReason } from './errors.js';
import { PCAP_FILE_HEADER_LEN, PCAP_MAGIC, PCAP_MAX_SANE_CAPLEN, isPcapMagic } from './pcap.js';

export { LiveCaptureError } from './errors.js';
export type { LiveUnavailableReason } from './errors.js';

// ---- streaming pcap parser ------------------------------------------------------------------------

/**
 * Classic pcap from a byte stream (a pipe): chunks arrive at arbitrary boundaries. The file reader
 * (pcap.ts) reads a file descriptor with positioned reads, which a pipe does not allow, so this
 * parser keeps the one partial record left at the end of a chunk and prepends it to the next.
 * Packets are handed out as offsets into the chunk itself (zero-copy) in a recycled batch.
 */
export class PcapStreamParser {
  /** LINKTYPE_* from the header; -1 before it arrived. */
  linkType = -1;
  snaplen = 0;
  /** Set when the stream is not pcap or a record is corrupt; nothing more is parsed then. */
  error: string | null = null;
  /** Bytes consumed (header and complete records). */
  position = 0;
  private pending: Buffer = Buffer.alloc(0);
  private headerDone = false;
  private le = true;
  private nanos = false;
  private recHdrLen = 16;
  private maxCapLen = PCAP_MAX_SANE_CAPLEN;

  /**
   * Parse `chunk`; calls `onBatch` with `batch` each time it is full and once at the end of the
   * chunk when it holds packets. The batch is valid only during the call. Returns packets parsed.
   */
  push(chunk: Buffer, batch: PacketBatch, onBatch: (b: PacketBatch) => void): number {
    if (this.error !== null) return 0;
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let p = 0;
    if (!this.headerDone) {
      if (data.length < PCAP_FILE_HEADER_LEN) {
        this.pending = Buffer.from(data);
        return 0;
      }
      if (!this.parseHeader(data)) return 0;
      p = PCAP_FILE_HEADER_LEN;
    }
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const hl = this.recHdrLen;
    const le = this.le;
    const cap = batch.capacity;
    let n = 0;
    let total = 0;
    batch.buf = data;
    batch.count = 0;
    for (;;) {
      const avail = data.length - p;
      if (avail < hl) break;
      const capLen = dv.getUint32(p + 8, le);
      const origLen = dv.getUint32(p + 12, le);
      if (capLen > this.maxCapLen || capLen > origLen) {
        this.error = `corrupt pcap record at offset ${this.position + p}: capture length ${capLen}, original length ${origLen}`;
        break;
      }
      if (avail < hl + capLen) break;
      const frac = dv.getUint32(p + 4, le);
      batch.off[n] = p + hl;
      batch.capLen[n] = capLen;
      batch.origLen[n] = origLen;
      batch.tsUs[n] = dv.getUint32(p, le) * 1e6 + (this.nanos ? Math.floor(frac / 1000) : frac);
      batch.linkType[n] = this.linkType;
      batch.ifIndex[n] = 0;
      p += hl + capLen;
      n++;
      if (n === cap) {
        batch.count = n;
        total += n;
        onBatch(batch);
        n = 0;
        batch.buf = data;
      }
    }
    if (n > 0) {
      batch.count = n;
      total += n;
      onBatch(batch);
    }
    batch.count = 0;
    this.position += p;
    // Copy the partial tail: the chunk may be recycled by the stream once we return.
    this.pending = this.error === null && p < data.length ? Buffer.from(data.subarray(p)) : Buffer.alloc(0);
    return total;
  }

  /** Bytes held back waiting for the rest of a record. */
  get pendingBytes(): number {
    return this.pending.length;
  }

  private parseHeader(b: Buffer): boolean {
    const magic = b.readUInt32LE(0);
    if (!isPcapMagic(magic)) {
      this.error = `capture tool output is not pcap (magic 0x${magic.toString(16)})`;
      return false;
    }
    this.le = magic === PCAP_MAGIC.US_LE || magic === PCAP_MAGIC.NS_LE || magic === PCAP_MAGIC.KUZ_LE;
    this.nanos = magic === PCAP_MAGIC.NS_LE || magic === PCAP_MAGIC.NS_BE;
    this.recHdrLen = magic === PCAP_MAGIC.KUZ_LE || magic === PCAP_MAGIC.KUZ_BE ? 24 : 16;
    this.snaplen = this.le ? b.readUInt32LE(16) : b.readUInt32BE(16);
    this.linkType = (this.le ? b.readUInt32LE(20) : b.readUInt32BE(20)) & 0xffff;
    this.maxCapLen = Math.max(this.snaplen, PCAP_MAX_SANE_CAPLEN);
    this.headerDone = true;
    return true;
  }
}

// ---- tcpdump messages -----------------------------------------------------------------------------

/** Kernel / libpcap counters (pcap_stats): received by the filter, dropped by the kernel and the interface. */
export interface KernelCounters {
  received: number;
  dropped: number;
  ifdropped: number;
}

/**
 * Update `into` from one tcpdump stderr line: the SIGUSR1 report ("tcpdump: 5 packets captured,
 * 5 packets received by filter, 0 packets dropped by kernel[, 2 packets dropped by interface]")
 * or a line of the summary printed at exit (one counter per line). Returns true when the line held
 * a counter.
 */
export function parseTcpdumpCounters(line: string, into: KernelCounters): boolean {
  const re = /(\d+) packets? (received by filter|dropped by kernel|dropped by interface)/g;
  let found = false;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    const v = Number(m[1]);
    if (m[2] === 'received by filter') into.received = v;
    else if (m[2] === 'dropped by kernel') into.dropped = v;
    else into.ifdropped = v;
    found = true;
  }
  return found;
}

/** Whether a failure reason can go away without a configuration change (and so is retried). */
export function isRetryable(reason: LiveUnavailableReason): boolean {
  return reason === 'no_such_interface' || reason === 'interface_down' || reason === 'capture_failed';
}

/**
 * The reason behind a failed tcpdump start, from its stderr (libpcap's messages, stable across
 * libpcap 1.x). Unrecognised messages are `capture_failed`.
 */
export function classifyTcpdumpError(stderr: string): LiveUnavailableReason {
  if (/error while loading shared libraries|libpcap\.so/i.test(stderr)) return 'libpcap_unavailable';
  if (/permission|Operation not permitted|not permitted/i.test(stderr)) return 'no_privileges';
  if (/No such device|no such interface|doesn't exist|not found/i.test(stderr)) return 'no_such_interface';
  if (/not up/i.test(stderr)) return 'interface_down';
  if (/filter expression|syntax error|illegal|unknown (host|port|protocol)/i.test(stderr)) return 'invalid_filter';
  return 'capture_failed';
}

/** The last meaningful line of tcpdump's stderr (its message), for a one-line reason. */
function lastMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^tcpdump: (listening on|data link type)/.test(l) && !/^\(/.test(l));
  return (lines[0] ?? stderr.trim()).slice(0, 300);
}

// ---- configuration -------------------------------------------------------------------------------

export interface RetryPolicy {
  /** Consecutive failed starts before giving up (state `failed`); 0 = never retry. */
  maxRetries: number;
  /** First delay in seconds. */
  initialDelayS: number;
  /** Multiplier per attempt. */
  factor: number;
  /** Upper bound of a delay in seconds. */
  maxDelayS: number;
  /** A session that ran this long before failing resets the attempt count. */
  resetAfterS: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxRetries: 5,
  initialDelayS: 1,
  factor: 2,
  maxDelayS: 60,
  resetAfterS: 60,
};

export interface LiveCaptureParams {
  /** Interface name, `any` for all. */
  interface: string;
  /** BPF filter expression ('' = everything). */
  filter: string;
  /** Bytes kept per packet (tcpdump -s). */
  snaplen: number;
  /** Kernel buffer in KiB (tcpdump -B). */
  bufferKiB: number;
  /** Deliver packets as they arrive instead of in TPACKET_V3 blocks (lower latency, more CPU). */
  immediate: boolean;
  /** Capture tool (default `tcpdump` from PATH). */
  tcpdumpPath: string;
}

export const DEFAULT_PARAMS: LiveCaptureParams = {
  interface: 'any',
  filter: '',
  snaplen: 262144,
  bufferKiB: 32 * 1024,
  immediate: false,
  tcpdumpPath: 'tcpdump',
};

/** Interface names: Linux's IFNAMSIZ-1 characters, no whitespace or slash; a leading dash is refused (argv). */
const IFACE_RE = /^[A-Za-z0-9_.:@+][A-Za-z0-9_.:@+-]{0,14}$/;
const MAX_FILTER_LEN = 8192;

/** Validate interface and filter; throws LiveCaptureError (no_such_interface / invalid_filter). */
export function validateParams(p: Pick<LiveCaptureParams, 'interface' | 'filter'>): void {
  if (!IFACE_RE.test(p.interface))
    throw new LiveCaptureError('no_such_interface', `invalid interface name "${p.interface.slice(0, 40)}"`);
  // eslint-disable-next-line no-control-regex
  if (p.filter.length > MAX_FILTER_LEN || /[\u0000-\u0008\u000b-\u001f]/.test(p.filter))
    throw new LiveCaptureError('invalid_filter', 'BPF filter too long or holds control characters');
}

/** tcpdump's argv for a capture (`-d` instead of `-w -` for a probe). */
export function tcpdumpArgs(p: LiveCaptureParams, probe = false): string[] {
  const args = ['-i', p.interface, '-n', '-s', String(p.snaplen)];
  if (probe) args.push('-d');
  else {
    // -U: flush after each packet, so a quiet link's packets are not held in stdio's buffer.
    args.push('-U', '-w', '-', '-B', String(p.bufferKiB));
    if (p.immediate) args.push('--immediate-mode');
  }
  // "--" ends the options: a filter can never be read as one (e.g. "-w /etc/passwd").
  const f = p.filter.trim();
  if (f !== '') args.push('--', f);
  return args;
}

/**
 * Live capture settings from the environment: CAPTURE_INTERFACE, CAPTURE_FILTER, CAPTURE_SNAPLEN,
 * CAPTURE_BUFFER_MB, CAPTURE_IMMEDIATE, CAPTURE_TCPDUMP, SNIFFER_RETRY_MAX, SNIFFER_RETRY_DELAY,
 * SNIFFER_RETRY_BACKOFF, SNIFFER_RETRY_MAX_DELAY, SNIFFER_RETRY_RESET. Throws LiveCaptureError
 * (`invalid_config`) with a one-line message naming the variable.
 */
export function liveConfigFromEnv(env: Record<string, string | undefined> = process.env): {
  params: LiveCaptureParams;
  retry: RetryPolicy;
} {
  const num = (name: string, dflt: number, min: number, int: boolean): number => {
    const v = env[name];
    if (v === undefined || v.trim() === '') return dflt;
    const x = Number(v);
    if (!Number.isFinite(x) || x < min || (int && !Number.isInteger(x)))
      throw new LiveCaptureError(
        'invalid_config',
        `${name} must be ${int ? 'an integer' : 'a number'} >= ${min}, got "${v}"`,
      );
    return x;
  };
  const imm = (env['CAPTURE_IMMEDIATE'] ?? '').trim().toLowerCase();
  const params: LiveCaptureParams = {
    interface: (env['CAPTURE_INTERFACE'] ?? '').trim() || DEFAULT_PARAMS.interface,
    filter: env['CAPTURE_FILTER'] ?? '',
    snaplen: num('CAPTURE_SNAPLEN', DEFAULT_PARAMS.snaplen, 64, true),
    bufferKiB: Math.round(num('CAPTURE_BUFFER_MB', DEFAULT_PARAMS.bufferKiB / 1024, 1, false) * 1024),
    immediate: imm === '1' || imm === 'true' || imm === 'yes',
    tcpdumpPath: (env['CAPTURE_TCPDUMP'] ?? '').trim() || DEFAULT_PARAMS.tcpdumpPath,
  };
  const retry: RetryPolicy = {
    maxRetries: num('SNIFFER_RETRY_MAX', DEFAULT_RETRY.maxRetries, 0, true),
    initialDelayS: num('SNIFFER_RETRY_DELAY', DEFAULT_RETRY.initialDelayS, 0, false),
    factor: num('SNIFFER_RETRY_BACKOFF', DEFAULT_RETRY.factor, 1, false),
    maxDelayS: num('SNIFFER_RETRY_MAX_DELAY', DEFAULT_RETRY.maxDelayS, 0, false),
    resetAfterS: num('SNIFFER_RETRY_RESET', DEFAULT_RETRY.resetAfterS, 0, false),
  };
  try {
    validateParams(params);
  } catch (e) {
    const name = (e as LiveCaptureError).reason === 'invalid_filter' ? 'CAPTURE_FILTER' : 'CAPTURE_INTERFACE';
    throw new LiveCaptureError('invalid_config', `${name}: ${(e as Error).message}`);
  }
  return { params, retry };
}

/** Delay before retry number `attempt` (1-based), in seconds. */
export function backoffDelayS(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayS, policy.initialDelayS * policy.factor ** Math.max(0, attempt - 1));
}

// ---- one capture session (a tcpdump child) -----------------------------------------------------

/** What a session reports to its supervisor. */
export interface SessionHandlers {
  /** The capture is open (tcpdump printed "listening on"). */
  onListening(info: { linkType: string }): void;
  /** A batch of packets, valid only during the call. */
  onBatch(batch: PacketBatch): void;
  /** Kernel counters of this session (cumulative for the session). */
  onCounters(c: KernelCounters): void;
  /** The session ended: `failure` is null after stop() or a clean end. Called once. */
  onExit(failure: LiveCaptureError | null): void;
}

/** A running capture session. */
export interface CaptureSession {
  /** The capture tool's process id, when it is a child process (killed by a supervisor that dies). */
  readonly pid?: number;
  /** Ask for fresh kernel counters (delivered through onCounters). */
  requestCounters(): void;
  /** End the capture; onExit follows (with the final counters before it). */
  stop(): void;
}

/** Starts a session; the default runs tcpdump, tests inject fakes. */
export type SessionOpener = (params: LiveCaptureParams, h: SessionHandlers) => CaptureSession;

/** Seconds to wait for tcpdump to exit after SIGINT before SIGKILL. */
const KILL_AFTER_MS = 3000;

/** The tcpdump opener: spawns `tcpdump -w -` and parses its stdout and stderr. */
export const tcpdumpOpener: SessionOpener = (params, h) => {
  const batch = new PacketBatch(BATCH_PACKETS);
  const parser = new PcapStreamParser();
  const counters: KernelCounters = { received: 0, dropped: 0, ifdropped: 0 };
  let stderr = '';
  let lineBuf = '';
  let stopping = false;
  let exited = false;
  let spawnError: NodeJS.ErrnoException | null = null;
  let child: ChildProcess;
  try {
    child = spawn(params.tcpdumpPath, tcpdumpArgs(params), { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    // spawn throws synchronously only for invalid arguments; report like a failed start.
    queueMicrotask(() =>
      h.onExit(new LiveCaptureError('capture_failed', `cannot start tcpdump: ${(e as Error).message}`)),
    );
    return { requestCounters: () => undefined, stop: () => undefined };
  }
  let killTimer: NodeJS.Timeout | null = null;
  child.stdout!.on('data', (chunk: Buffer) => {
    parser.push(chunk, batch, h.onBatch);
    if (parser.error !== null && !stopping) {
      stopping = true;
      child.kill('SIGKILL');
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    // Keep a bounded tail for the failure message; counters are parsed line by line.
    stderr = (stderr + s).slice(-8192);
    lineBuf += s;
    let nl = lineBuf.indexOf('\n');
    while (nl >= 0) {
      const line = lineBuf.slice(0, nl);
      lineBuf = lineBuf.slice(nl + 1);
      const m = /listening on \S+, link-type (\S+)/.exec(line);
      if (m !== null) h.onListening({ linkType: m[1]! });
      else if (parseTcpdumpCounters(line, counters) && /dropped by kernel/.test(line)) h.onCounters({ ...counters });
      nl = lineBuf.indexOf('\n');
    }
    if (lineBuf.length > 4096) lineBuf = lineBuf.slice(-4096);
  });
  child.on('error', (e: NodeJS.ErrnoException) => {
    spawnError = e;
  });
  child.on('close', (code, signal) => {
    if (exited) return;
    exited = true;
    if (killTimer !== null) clearTimeout(killTimer);
    if (lineBuf !== '') parseTcpdumpCounters(lineBuf, counters);
    h.onCounters({ ...counters });
    let failure: LiveCaptureError | null = null;
    if (spawnError !== null) {
      failure =
        spawnError.code === 'ENOENT'
          ? new LiveCaptureError(
              'libpcap_unavailable',
              `capture tool not found: ${params.tcpdumpPath} (install tcpdump, which brings libpcap)`,
            )
          : spawnError.code === 'EACCES'
            ? new LiveCaptureError('no_privileges', `cannot run ${params.tcpdumpPath}: permission denied`)
            : new LiveCaptureError('capture_failed', `cannot run ${params.tcpdumpPath}: ${spawnError.message}`);
    } else if (parser.error !== null) {
      failure = new LiveCaptureError('capture_failed', parser.error);
    } else if (!stopping) {
      const reason = code !== 0 && code !== null ? classifyTcpdumpError(stderr) : 'capture_failed';
      const what = lastMessage(stderr) || `tcpdump exited (${signal ?? `code ${code}`})`;
      failure = new LiveCaptureError(reason, what);
    }
    h.onExit(failure);
  });
  return {
    ...(child.pid !== undefined ? { pid: child.pid } : {}),
    requestCounters: () => {
      if (!exited && !stopping) child.kill('SIGUSR1');
    },
    stop: () => {
      if (exited || stopping) return;
      stopping = true;
      // SIGINT: tcpdump flushes and prints its final counters.
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      killTimer.unref();
    },
  };
};

// ---- probe -----------------------------------------------------------------------------------------

export type CaptureAvailability =
  { available: true } | { available: false; reason: LiveUnavailableReason; message: string };

/**
 * Whether live capture can run with these parameters, without capturing: `tcpdump -d` opens the
 * interface (so privileges and the name are checked) and compiles the filter. For /api/health
 * when capture is not started.
 */
export function probeCapture(
  p: Partial<LiveCaptureParams> & { interface: string },
  timeoutMs = 5000,
): Promise<CaptureAvailability> {
  const params: LiveCaptureParams = { ...DEFAULT_PARAMS, ...p };
  try {
    validateParams(params);
  } catch (e) {
    const err = e as LiveCaptureError;
    return Promise.resolve({ available: false, reason: err.reason, message: err.message });
  }
  return new Promise((resolve) => {
    let stderr = '';
    let done = false;
    const child = spawn(params.tcpdumpPath, tcpdumpArgs(params, true), { stdio: ['ignore', 'ignore', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({
        available: false,
        reason: 'capture_failed',
        message: `tcpdump -d did not answer within ${timeoutMs} ms`,
      });
    }, timeoutMs);
    const finish = (r: CaptureAvailability): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => void (stderr = (stderr + s).slice(-8192)));
    child.on('error', (e: NodeJS.ErrnoException) =>
      finish({
        available: false,
        reason: e.code === 'ENOENT' ? 'libpcap_unavailable' : e.code === 'EACCES' ? 'no_privileges' : 'capture_failed',
        message: e.code === 'ENOENT' ? `capture tool not found: ${params.tcpdumpPath}` : e.message,
      }),
    );
    child.on('close', (code) => {
      if (code === 0) finish({ available: true });
      else finish({ available: false, reason: classifyTcpdumpError(stderr), message: lastMessage(stderr) });
    });
  });
}

// ---- supervisor -----------------------------------------------------------------------------------

export type LiveState = 'idle' | 'starting' | 'running' | 'restarting' | 'stopped' | 'unavailable' | 'failed';

/** Clock and timers, injectable so restart tests need no sleeps. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_TIMERS: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface LiveCaptureStats {
  state: LiveState;
  interface: string;
  filter: string;
  /** Why capture is not running (machine-readable), null while it runs. */
  reason: LiveUnavailableReason | null;
  /** The tool's one-line message for `reason`. */
  message: string | null;
  /** Link type tcpdump reported (EN10MB, LINUX_SLL2, ...). */
  linkType: string | null;
  /** Packets and bytes (captured length) delivered, over every session. */
  packets: number;
  bytes: number;
  /** Kernel counters summed over every session. */
  kernel: KernelCounters;
  /** Sessions started after the first. */
  restarts: number;
  /** Exceptions thrown by the onBatch consumer (counted; capture goes on). */
  batchErrors: number;
  lastBatchError: string | null;
  /** Consecutive failed starts (reset by a session that ran `resetAfterS`). */
  attempts: number;
  /** ms since the epoch (the injected clock): current session start, next retry. */
  startedAt: number | null;
  nextRetryAt: number | null;
}

export interface LiveCaptureOptions {
  params: Partial<LiveCaptureParams> & { interface: string };
  retry?: Partial<RetryPolicy>;
  /** Packets, valid only during the call. */
  onBatch: (batch: PacketBatch) => void;
  /** Every state change. */
  onState?: (s: LiveCaptureStats) => void;
  /** Kernel counter poll interval in ms (SIGUSR1 to tcpdump); 0 = only at exit. Default 5000. */
  countersIntervalMs?: number;
  opener?: SessionOpener;
  timers?: Timers;
}

/**
 * A supervised live capture: start() opens a session; when it fails, the supervisor retries after
 * initialDelay * factor^(n-1) seconds (capped) up to maxRetries times, then stays `failed`.
 * Failures no retry can cure (no privileges, no libpcap, an invalid filter) go straight to
 * `unavailable`. stats().reason says why capture is off.
 */
export class LiveCapture {
  private readonly params: LiveCaptureParams;
  private readonly retry: RetryPolicy;
  private readonly opener: SessionOpener;
  private readonly timers: Timers;
  private readonly opts: LiveCaptureOptions;
  private session: CaptureSession | null = null;
  private retryTimer: unknown = null;
  private countersTimer: NodeJS.Timeout | null = null;
  /** Counters of ended sessions, plus the current session's latest. */
  private readonly kernelDone: KernelCounters = { received: 0, dropped: 0, ifdropped: 0 };
  private kernelCur: KernelCounters = { received: 0, dropped: 0, ifdropped: 0 };
  private st: LiveCaptureStats;
  private sessions = 0;
  private stopWaiters: (() => void)[] = [];
  private listeningAt: number | null = null;

  constructor(opts: LiveCaptureOptions) {
    this.opts = opts;
    this.params = { ...DEFAULT_PARAMS, ...opts.params };
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.opener = opts.opener ?? tcpdumpOpener;
    this.timers = opts.timers ?? REAL_TIMERS;
    this.st = {
      state: 'idle',
      interface: this.params.interface,
      filter: this.params.filter,
      reason: null,
      message: null,
      linkType: null,
      packets: 0,
      bytes: 0,
      kernel: { received: 0, dropped: 0, ifdropped: 0 },
      restarts: 0,
      batchErrors: 0,
      lastBatchError: null,
      attempts: 0,
      startedAt: null,
      nextRetryAt: null,
    };
  }

  /** Start capturing (no-op unless idle or stopped). Invalid parameters end `unavailable` at once. */
  start(): void {
    if (this.st.state !== 'idle' && this.st.state !== 'stopped') return;
    try {
      validateParams(this.params);
    } catch (e) {
      const err = e as LiveCaptureError;
      this.setState('unavailable', err.reason, err.message);
      return;
    }
    this.st.attempts = 0;
    this.open();
  }

  /** Stop capturing; resolves once the session has ended (its final counters included). */
  stop(): Promise<void> {
    this.clearRetry();
    this.stopCountersPoll();
    if (this.session === null) {
      if (this.st.state === 'restarting' || this.st.state === 'starting' || this.st.state === 'running')
        this.setState('stopped', null, null);
      return Promise.resolve();
    }
    const s = this.session;
    return new Promise((resolve) => {
      this.stopWaiters.push(resolve);
      this.setState('stopped', null, null);
      s.stop();
    });
  }

  stats(): LiveCaptureStats {
    const k = this.kernelDone;
    const c = this.kernelCur;
    return {
      ...this.st,
      kernel: {
        received: k.received + c.received,
        dropped: k.dropped + c.dropped,
        ifdropped: k.ifdropped + c.ifdropped,
      },
    };
  }

  /** Ask the running session for fresh kernel counters. */
  refreshCounters(): void {
    this.session?.requestCounters();
  }

  private open(): void {
    if (this.sessions > 0) this.st.restarts++;
    this.sessions++;
    this.listeningAt = null;
    this.kernelCur = { received: 0, dropped: 0, ifdropped: 0 };
    this.st.startedAt = this.timers.now();
    this.st.nextRetryAt = null;
    this.setState('starting', null, null);
    let ended = false;
    const session = this.opener(this.params, {
      onListening: (info) => {
        if (ended) return;
        this.listeningAt = this.timers.now();
        this.st.linkType = info.linkType;
        if (this.st.state === 'starting') this.setState('running', null, null);
        this.startCountersPoll();
      },
      onBatch: (b) => {
        const n = b.count;
        let bytes = 0;
        for (let i = 0; i < n; i++) bytes += b.capLen[i]!;
        this.st.packets += n;
        this.st.bytes += bytes;
        try {
          this.opts.onBatch(b);
        } catch (e) {
          // A throwing consumer must not kill the capture (or the process, from a stream event).
          this.st.batchErrors++;
          this.st.lastBatchError = e instanceof Error ? e.message : String(e);
        }
      },
      onCounters: (c) => {
        this.kernelCur = c;
      },
      onExit: (failure) => {
        if (ended) return;
        ended = true;
        this.sessionEnded(failure);
      },
    });
    // An opener may fail synchronously (calling onExit before returning).
    if (!ended) this.session = session;
  }

  private sessionEnded(failure: LiveCaptureError | null): void {
    this.session = null;
    this.stopCountersPoll();
    const k = this.kernelDone;
    k.received += this.kernelCur.received;
    k.dropped += this.kernelCur.dropped;
    k.ifdropped += this.kernelCur.ifdropped;
    this.kernelCur = { received: 0, dropped: 0, ifdropped: 0 };
    const waiters = this.stopWaiters;
    this.stopWaiters = [];
    if (this.st.state === 'stopped') {
      for (const w of waiters) w();
      return;
    }
    const err = failure ?? new LiveCaptureError('capture_failed', 'capture tool exited unexpectedly');
    if (!isRetryable(err.reason)) {
      this.setState('unavailable', err.reason, err.message);
      return;
    }
    // A session that ran long enough was a success: its failure starts a fresh series of retries.
    if (this.listeningAt !== null && this.timers.now() - this.listeningAt >= this.retry.resetAfterS * 1000)
      this.st.attempts = 0;
    this.st.attempts++;
    if (this.st.attempts > this.retry.maxRetries) {
      this.setState('failed', err.reason, err.message);
      return;
    }
    const delayMs = backoffDelayS(this.retry, this.st.attempts) * 1000;
    this.st.nextRetryAt = this.timers.now() + delayMs;
    this.setState('restarting', err.reason, err.message);
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      if (this.st.state === 'restarting') this.open();
    }, delayMs);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) {
      this.timers.clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.st.nextRetryAt = null;
  }

  private startCountersPoll(): void {
    const ms = this.opts.countersIntervalMs ?? 5000;
    if (ms <= 0 || this.countersTimer !== null) return;
    this.countersTimer = setInterval(() => this.session?.requestCounters(), ms);
    this.countersTimer.unref();
  }

  private stopCountersPoll(): void {
    if (this.countersTimer !== null) clearInterval(this.countersTimer);
    this.countersTimer = null;
  }

  private setState(state: LiveState, reason: LiveUnavailableReason | null, message: string | null): void {
    this.st.state = state;
    this.st.reason = reason;
    this.st.message = message;
    this.opts.onState?.(this.stats());
  }
}
