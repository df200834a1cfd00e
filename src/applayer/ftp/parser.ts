/**
 * Incremental FTP control-channel parser over in-order reassembled TCP bytes, one `FtpConnection`
 * per flow (RFC 959, with RFC 2428 EPRT/EPSV).
 *
 * Both directions are line-based: lines are found with `indexOf` on the chunk and parsed in place;
 * only a line cut by a chunk boundary is copied, into a per-direction buffer that grows up to
 * `MAX_LINE`. A longer line keeps its first `MAX_LINE` bytes, is marked truncated with an event,
 * and the rest up to the next LF is skipped. Nothing throws; every buffer and queue is capped.
 *
 * Each command line opens a transaction; replies are matched to commands in order. A reply is one
 * line `ddd text` or a multi-line `ddd-...` up to the line `ddd text` with the same code. A 1xx
 * (preliminary) reply does not end the transaction; the next final reply does. A reply with no
 * command waiting (the greeting, or a `421` on timeout) opens a transaction with no command.
 * Transactions are delivered in command order once their final reply is in, or on `close()`.
 */
import { FTP_EVENT, type FtpEvent } from './events.js';

/** Longest line kept (bytes, CRLF excluded), as Suricata's `ftp.max-line-length` default (4 KiB). */
export const MAX_LINE = 4096;
/** Commands waiting for their reply; beyond it the oldest is delivered unanswered. */
export const MAX_PENDING_TX = 64;
/** Reply lines kept per transaction (a FEAT reply has a few dozen); further ones are dropped. */
export const MAX_REPLY_LINES = 64;

/** Parser options. */
export interface FtpOptions {
  /** Called with each finished transaction; without it they queue for `drain()`. */
  onTransaction?: (tx: FtpTransaction) => void;
}

/** One command and its reply. Strings are latin1; absent values are '' and -1. */
export class FtpTransaction {
  /** Index of the transaction in its connection, from 0. */
  readonly id: number;
  /** Time of the command line, or of the first reply line for a reply without command (µs). */
  tsUs = 0;
  /** Time of the segment that completed the first reply line (µs), -1 without reply. */
  responseTsUs = -1;
  /** Command name uppercased (`USER`), '' for a reply without command (the greeting). */
  command = '';
  /** The rest of the command line after the name and one space (PASS: the password, as sent). */
  commandData = '';
  /** The command line was longer than MAX_LINE. */
  commandTruncated = false;
  /** Reply lines as sent, CRLF excluded (code included). */
  replyLines: string[] = [];
  /** The 3-digit code of every reply line starting with one, in order (Suricata's completion_code). */
  completionCodes: string[] = [];
  /** Code of the final (non-1xx) reply, -1 while none. */
  replyCode = -1;
  /** A final reply was received. */
  replyReceived = false;
  /** A reply line was longer than MAX_LINE, or lines over MAX_REPLY_LINES were dropped. */
  replyTruncated = false;
  /** Data-channel port from PORT/EPRT (active) or a 227/229 reply (passive), -1 when none. */
  dynamicPort = -1;
  /** 'active' (PORT/EPRT), 'passive' (227/229 reply) or '' with no dynamic port. */
  mode = '';
  /** Anomalies, each once, in the order seen. */
  events: FtpEvent[] = [];

  constructor(id: number) {
    this.id = id;
  }

  /** Records `ev` once. */
  addEvent(ev: FtpEvent): void {
    if (!this.events.includes(ev)) this.events.push(ev);
  }
}

/** Line state of one direction. */
class Side {
  /** Bytes of a line cut by a chunk boundary (grown up to MAX_LINE + 1, allocated on first need). */
  line: Buffer | null = null;
  lineLen = 0;
  /** The buffered line passed its cap: the rest up to LF is skipped. */
  over = false;
  tsUs = 0;
  /** Code of the open multi-line reply (`ddd-`), '' when none (server side only). */
  multi = '';
  constructor(readonly isCommand: boolean) {}
}

/** Number of a 1-5 digit decimal at `s[i..j)`, -1 when not one. */
function decimal(s: string, i: number, j: number): number {
  if (j <= i || j - i > 5) return -1;
  let v = 0;
  for (let k = i; k < j; k++) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Port of `h1,h2,h3,h4,p1,p2` found in `s` (PORT data or a 227 reply), -1 when none. */
export function parseHostPort(s: string): number {
  // The six numbers start at the first digit (227 replies put them in parentheses, or not).
  let i = 0;
  while (i < s.length && (s.charCodeAt(i) < 48 || s.charCodeAt(i) > 57)) i++;
  let p1 = -1;
  let p2 = -1;
  for (let n = 0; n < 6; n++) {
    let j = i;
    while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    const v = decimal(s, i, j);
    if (v < 0 || v > 255) return -1;
    if (n === 4) p1 = v;
    if (n === 5) p2 = v;
    else if (s.charCodeAt(j) !== 44) return -1; // ','
    i = j + 1;
  }
  const port = p1 * 256 + p2;
  return port > 0 ? port : -1;
}

/** Port of an RFC 2428 `<d>proto<d>addr<d>port<d>` (EPRT data) or `(<d><d><d>port<d>)` (229 reply). */
export function parseExtendedPort(s: string, reply: boolean): number {
  let i = 0;
  if (reply) {
    i = s.indexOf('(');
    if (i < 0) return -1;
    i++;
  }
  if (i >= s.length) return -1;
  const d = s.charCodeAt(i);
  // The port is the third field: skip the delimiter and two fields.
  let p = i + 1;
  for (let n = 0; n < 2; n++) {
    while (p < s.length && s.charCodeAt(p) !== d) p++;
    if (p >= s.length) return -1;
    p++;
  }
  let e = p;
  while (e < s.length && s.charCodeAt(e) !== d) e++;
  if (e >= s.length) return -1;
  const port = decimal(s, p, e);
  return port > 0 && port <= 65535 ? port : -1;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** One FTP control connection (both directions of a TCP flow). */
export class FtpConnection {
  private readonly cmd = new Side(true);
  private readonly rep = new Side(false);
  private readonly pending: FtpTransaction[] = [];
  private readonly queue: FtpTransaction[] = [];
  private nextId = 0;
  private closed = false;
  private lastIn: Uint8Array | null = null;
  private lastView: Buffer | null = null;
  private readonly onTransaction: ((tx: FtpTransaction) => void) | null;
  /** Final 530 replies to USER or PASS (failed logins). */
  loginFailures = 0;
  /** Final 230 replies to USER or PASS (logins). */
  loginSuccesses = 0;

  constructor(opts: FtpOptions = {}) {
    this.onTransaction = opts.onTransaction ?? null;
  }

  /** Finished transactions not yet taken (only used without `onTransaction`). */
  drain(): FtpTransaction[] {
    return this.queue.splice(0, this.queue.length);
  }

  /** Transactions seen but not yet delivered. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * Feeds in-order bytes of one direction.
   * @param dir 0 = client to server (commands), 1 = server to client (replies)
   */
  feed(dir: 0 | 1, buf: Uint8Array, off: number, len: number, tsUs: number): void {
    if (this.closed || len <= 0 || off < 0 || off + len > buf.length) return;
    const side = dir === 0 ? this.cmd : this.rep;
    side.tsUs = tsUs;
    // One Buffer view per call so indexOf stays inside [off, off+len); reused for a recycled buffer.
    let b: Buffer;
    if (buf === this.lastIn && this.lastView !== null) b = this.lastView;
    else {
      b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
      this.lastIn = buf;
      this.lastView = b;
    }
    this.run(side, b, off, off + len);
    this.deliver();
  }

  /** The connection ended: parses an unterminated last line of each side, delivers everything pending. */
  close(tsUs = 0): void {
    if (this.closed) return;
    for (const side of [this.cmd, this.rep]) {
      if (side.lineLen > 0 || side.over) {
        if (tsUs !== 0) side.tsUs = tsUs;
        this.bufferedLine(side);
      }
      side.line = null;
    }
    this.closed = true;
    this.deliver();
    while (this.pending.length > 0) this.emit(this.pending.shift()!);
  }

  // ---------------------------------------------------------------- lines

  private run(side: Side, b: Buffer, p: number, end: number): void {
    while (p < end) {
      let lf = b.indexOf(10, p);
      if (lf >= end) lf = -1;
      if (lf < 0) {
        this.append(side, b, p, end);
        return;
      }
      if (side.lineLen === 0 && !side.over) {
        let e = lf;
        if (e > p && b[e - 1] === 13) e--;
        if (e - p > MAX_LINE) this.line(side, b, p, p + MAX_LINE, true);
        else this.line(side, b, p, e, false);
      } else {
        this.append(side, b, p, lf);
        this.bufferedLine(side);
      }
      p = lf + 1;
    }
  }

  /** Parses and clears the side's buffered line. */
  private bufferedLine(side: Side): void {
    let n = side.lineLen;
    let trunc = side.over;
    const line = side.line;
    if (!trunc && n > 0 && line![n - 1] === 13) n--;
    if (n > MAX_LINE) {
      n = MAX_LINE;
      trunc = true;
    }
    side.lineLen = 0;
    side.over = false;
    if (line !== null) this.line(side, line, 0, n, trunc);
  }

  /** Appends `b[s, e)` to the side's line buffer, up to MAX_LINE + 1 bytes (room for a CR). */
  private append(side: Side, b: Buffer, s: number, e: number): void {
    const cap = MAX_LINE + 1;
    const room = cap - side.lineLen;
    const n = e - s < room ? e - s : room;
    if (e - s > room) side.over = true;
    if (n <= 0) return;
    const need = side.lineLen + n;
    let line = side.line;
    if (line === null || line.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(cap, Math.max(256, need * 2)));
      if (line !== null) line.copy(grown, 0, 0, side.lineLen);
      side.line = grown;
      line = grown;
    }
    b.copy(line, side.lineLen, s, s + n);
    side.lineLen = need;
  }

  private line(side: Side, b: Buffer, s: number, e: number, truncated: boolean): void {
    const text = b.toString('latin1', s, e);
    if (side.isCommand) this.commandLine(text, truncated, side.tsUs);
    else this.replyLine(side, text, truncated);
  }

  // ---------------------------------------------------------------- transactions

  private commandLine(text: string, truncated: boolean, tsUs: number): void {
    if (text.length === 0 && !truncated) return; // empty line: nothing to answer
    if (this.pending.length >= MAX_PENDING_TX) {
      const old = this.pending.shift()!;
      old.addEvent(FTP_EVENT.TOO_MANY_TRANSACTIONS);
      this.emit(old);
    }
    const tx = new FtpTransaction(this.nextId++);
    tx.tsUs = tsUs;
    const sp = text.indexOf(' ');
    tx.command = (sp < 0 ? text : text.slice(0, sp)).toUpperCase();
    tx.commandData = sp < 0 ? '' : text.slice(sp + 1);
    if (truncated) {
      tx.commandTruncated = true;
      tx.addEvent(FTP_EVENT.REQUEST_COMMAND_TOO_LONG);
    }
    if (tx.command === 'PORT' || tx.command === 'EPRT') {
      const port = tx.command === 'PORT' ? parseHostPort(tx.commandData) : parseExtendedPort(tx.commandData, false);
      if (port > 0) {
        tx.dynamicPort = port;
        tx.mode = 'active';
      }
    }
    this.pending.push(tx);
  }

  /** The transaction the next reply line belongs to: the oldest unanswered, or a new one. */
  private replyTx(tsUs: number): FtpTransaction {
    const first = this.pending[0];
    if (first !== undefined) return first;
    const tx = new FtpTransaction(this.nextId++);
    tx.tsUs = tsUs;
    this.pending.push(tx);
    return tx;
  }

  private replyLine(side: Side, text: string, truncated: boolean): void {
    if (text.length === 0 && !truncated && side.multi === '') return;
    const tx = this.replyTx(side.tsUs);
    if (tx.responseTsUs < 0) tx.responseTsUs = side.tsUs;
    if (truncated) {
      tx.replyTruncated = true;
      tx.addEvent(FTP_EVENT.RESPONSE_COMMAND_TOO_LONG);
    }
    const coded =
      text.length >= 3 && isDigit(text.charCodeAt(0)) && isDigit(text.charCodeAt(1)) && isDigit(text.charCodeAt(2));
    if (tx.replyLines.length < MAX_REPLY_LINES) {
      tx.replyLines.push(text);
      if (coded) tx.completionCodes.push(text.slice(0, 3));
    } else {
      tx.replyTruncated = true;
      tx.addEvent(FTP_EVENT.TOO_MANY_REPLY_LINES);
    }
    const sep = text.length > 3 ? text.charCodeAt(3) : 32;
    if (side.multi !== '') {
      // Inside a multi-line reply only `ddd ` (or `ddd`) with the opening code ends it.
      if (coded && sep === 32 && text.startsWith(side.multi)) {
        side.multi = '';
        this.finishReply(tx, text);
      }
      return;
    }
    if (!coded || (sep !== 32 && sep !== 45)) {
      tx.addEvent(FTP_EVENT.INVALID_REPLY);
      return;
    }
    if (sep === 45) side.multi = text.slice(0, 3);
    else this.finishReply(tx, text);
  }

  /** A complete reply `text` (its last line) for `tx`: ends the transaction unless 1xx. */
  private finishReply(tx: FtpTransaction, text: string): void {
    const code = decimal(text, 0, 3);
    if (code < 200) return; // preliminary: the final reply follows
    tx.replyCode = code;
    tx.replyReceived = true;
    const cmd = tx.command;
    if (cmd === 'USER' || cmd === 'PASS') {
      if (code === 530) this.loginFailures++;
      else if (code === 230) this.loginSuccesses++;
    }
    if (code === 227 || code === 229) {
      const port = code === 227 ? parseHostPort(text.slice(4)) : parseExtendedPort(text, true);
      if (port > 0) {
        tx.dynamicPort = port;
        tx.mode = 'passive';
      }
    }
    this.deliver(); // the next reply belongs to the next transaction
  }

  private deliver(): void {
    while (this.pending.length > 0 && this.pending[0]!.replyReceived) this.emit(this.pending.shift()!);
  }

  private emit(tx: FtpTransaction): void {
    if (this.onTransaction !== null) this.onTransaction(tx);
    else this.queue.push(tx);
  }
}
