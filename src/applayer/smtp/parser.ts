/**
 * Incremental SMTP parser (RFC 5321, with PIPELINING RFC 2920, CHUNKING/BDAT RFC 3030, STARTTLS
 * RFC 3207 and AUTH RFC 4954) over in-order reassembled TCP bytes, one `SmtpConnection` per flow.
 * The message of each mail is handed to the MIME parser (mime.ts).
 *
 * Command and reply lines are found with `indexOf` and parsed in place; only a line cut by a chunk
 * boundary is copied, into a per-direction buffer of up to MAX_LINE bytes (a longer line keeps its
 * first MAX_LINE bytes, raises smtp.truncated_line and is skipped to its LF). Message bytes (DATA,
 * BDAT) are not line-buffered here: DATA is scanned with a small state machine for the
 * `CRLF . CRLF` end and for dot-stuffing, and streamed on. Nothing throws; every buffer, list and
 * queue is capped.
 *
 * Transactions follow Suricata's: the first command opens one (EHLO included); it ends at the end
 * of a message (the `.` line or `BDAT ... LAST`), at RSET or QUIT, or when STARTTLS is accepted;
 * the next command opens the next. A transaction is delivered once it has ended and every command
 * of it has its reply (so the reply to the end of data is in), or on `close()`.
 *
 * Commands are matched to replies in order (pipelining). The parser relies on feed order: the
 * 354 to DATA is not awaited (the message starts right after the DATA line, as Suricata does for
 * PIPELINING servers), but a DATA refused before any message byte arrives switches back to
 * commands.
 */
import { SMTP_EVENT, type SmtpEvent } from './events.js';
import { MimeParser, MimeResult, type MimeLimits } from './mime.js';

/** Longest command or reply line kept, CRLF excluded (Suricata's SMTP_LINE_BUFFER_LIMIT). */
export const MAX_LINE = 4096;
/** RFC 5321 4.5.3.1.4/4.5.3.1.5: 512 octets with CRLF; longer lines raise max_*_line_len_exceeded. */
export const MAX_COMMAND_LINE = 510;
export const MAX_REPLY_LINE = 510;
/** Commands waiting for a reply; beyond it the oldest is forgotten. */
export const MAX_PENDING_COMMANDS = 256;
/** Ended transactions waiting for replies; beyond it the oldest is delivered early. */
export const MAX_PENDING_TX = 4;
/** RCPT TO kept per transaction (RFC 5321 4.5.3.1.8 asks servers to take at least 100). */
export const MAX_RCPT = 512;
/** EHLO keywords kept from the server's reply. */
export const MAX_EXTENSIONS = 32;
/** Default decoded bytes kept per attachment. */
export const DEFAULT_FILE_LIMIT = 1024 * 1024;
/** Default decoded bytes kept per text body part. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;
/** Default decoded bytes kept per transaction over all its parts. */
export const DEFAULT_TX_DATA_LIMIT = 4 * 1024 * 1024;

/** Parser options. */
export interface SmtpOptions {
  /** Called with each finished transaction; without it they queue for `drain()`. */
  onTransaction?: (tx: SmtpTransaction) => void;
  /** Decoded bytes kept per attachment (default DEFAULT_FILE_LIMIT); `size` counts them all. */
  fileLimit?: number;
  /** Decoded bytes kept per text body (default DEFAULT_BODY_LIMIT). */
  bodyLimit?: number;
  /** Decoded bytes kept per transaction over all its parts (default DEFAULT_TX_DATA_LIMIT). */
  txDataLimit?: number;
  /** md5, sha1 and sha256 of every attachment's full decoded content (default false). */
  hashFiles?: boolean;
}

/**
 * One mail (or the commands before it): envelope, message headers and MIME parts.
 * Strings are UTF-8 decoded (lossy); absent values are '', [] and -1.
 */
export class SmtpTransaction extends MimeResult {
  /** Index of the transaction in its connection, from 0. */
  readonly id: number;
  /** Time of the command that opened it (µs). */
  tsUs = 0;
  /** HELO/EHLO argument of the connection. */
  helo = '';
  /** MAIL FROM path as sent (`<a@b>`), parameters (SIZE=...) excluded, as Suricata logs it. */
  mailFrom = '';
  /** Reply code to MAIL FROM, -1 without reply. */
  mailFromReply = -1;
  /** RCPT TO paths as sent, up to MAX_RCPT. */
  rcptTo: string[] = [];
  /** A message was sent (DATA or BDAT). */
  hasMessage = false;
  /** Message bytes after dot-unstuffing (the `.` line excluded). */
  messageSize = 0;
  /** Reply code to the end of the message (`250 queued`, `554 rejected`), -1 without reply. */
  dataReplyCode = -1;
  /** STARTTLS was accepted here: what followed is TLS and was not parsed. */
  startTls = false;
  /** Ended (message end, RSET, QUIT, STARTTLS, or the connection's end). */
  done = false;
  /** Parser bookkeeping: its commands still waiting for a reply. */
  outstanding = 0;
  /** Parser bookkeeping: handed over (no longer changed). */
  delivered = false;

  constructor(id: number) {
    super();
    this.id = id;
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
}

// Command kinds in the reply queue.
const K_HELO = 1;
const K_EHLO = 2;
const K_MAIL = 3;
const K_RCPT = 4;
const K_DATA = 5;
const K_DATA_END = 6;
const K_BDAT = 7;
const K_BDAT_LAST = 8;
const K_STARTTLS = 9;
const K_AUTH = 10;
const K_AUTH_DATA = 11;
const K_RSET = 12;
const K_QUIT = 13;
const K_OTHER = 14;

// Client-side modes.
const M_CMD = 0;
const M_DATA = 1;
const M_BDAT = 2;
/** After STARTTLS: the rest is TLS, not parsed. */
const M_TLS = 3;

// DATA scanner states.
const D_START = 0; // at the start of a line
const D_LINE = 1; // inside a line
const D_DOT = 2; // a line started with '.'
const D_DOT_CR = 3; // a line started with ".\r"

/** Commands of RFC 5321 and its extensions: after a BDAT chunk, anything else means the chunk was longer. */
const KNOWN_VERBS = new Set([
  'HELO',
  'EHLO',
  'LHLO',
  'MAIL',
  'RCPT',
  'DATA',
  'BDAT',
  'BURL',
  'RSET',
  'VRFY',
  'EXPN',
  'HELP',
  'NOOP',
  'QUIT',
  'STARTTLS',
  'AUTH',
  'TURN',
  'ETRN',
  'ATRN',
  'SEND',
  'SOML',
  'SAML',
  'XCLIENT',
  'XFORWARD',
]);

const CR = Buffer.from('\r', 'latin1');

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Index of the first byte at or after `i` (below `e`) that is not a space or tab. */
function skipSpaces(b: Buffer, i: number, e: number): number {
  while (i < e && (b[i] === 32 || b[i] === 9)) i++;
  return i;
}

/** Index of the first space or tab at or after `i`, or `e`. */
function tokenEnd(b: Buffer, i: number, e: number): number {
  while (i < e && b[i] !== 32 && b[i] !== 9) i++;
  return i;
}

/** Whether `b[i..]` starts with the uppercase ASCII `word`, any case. */
function startsWithCI(b: Buffer, i: number, e: number, word: string): boolean {
  if (e - i < word.length) return false;
  for (let k = 0; k < word.length; k++) {
    let c = b[i + k]!;
    if (c >= 97 && c <= 122) c -= 32;
    if (c !== word.charCodeAt(k)) return false;
  }
  return true;
}

/** One SMTP connection (both directions of a TCP flow). */
export class SmtpConnection {
  private readonly cli = new Side();
  private readonly srv = new Side();
  private mode = M_CMD;
  // DATA scanner.
  private dState = D_START;
  /** The previous message line ended with a bare LF (for the smuggling check). */
  private prevBareLf = false;
  /** The last message byte written was a CR (a CRLF split between chunks). */
  private lastCr = false;
  // BDAT.
  private bdatLeft = 0;
  private bdatLast = false;
  /** The previous command line followed a BDAT chunk. */
  private afterBdat = false;
  /** The message being received and its transaction. */
  private mime: MimeParser | null = null;
  private dataTx: SmtpTransaction | null = null;
  /** The transaction commands go to (null before the first command). */
  private cur: SmtpTransaction | null = null;
  /** Transactions not yet delivered, in order. */
  private readonly pending: SmtpTransaction[] = [];
  private readonly queue: SmtpTransaction[] = [];
  // Commands waiting for a reply: a ring of kinds and transactions.
  private readonly qKind = new Uint8Array(MAX_PENDING_COMMANDS);
  private readonly qTx: (SmtpTransaction | null)[] = new Array<SmtpTransaction | null>(MAX_PENDING_COMMANDS).fill(null);
  private qHead = 0;
  private qCount = 0;
  // Reply state.
  private replyCode = 0;
  private replyLineIdx = 0;
  /** A 334 came: the client's next line is an AUTH response (credentials: not parsed, not kept). */
  private authExpect = false;
  private greetingSeen = false;
  private heloAccepted = false;
  private noWelcomeFlagged = false;
  private serverStopped = false;
  /** Events with no transaction to hold them: given to the next one. */
  private readonly orphan: SmtpEvent[] = [];
  private nextId = 0;
  private closed = false;
  private lastIn: Uint8Array | null = null;
  private lastView: Buffer | null = null;
  private scratch: Uint8Array | null = null;
  private readonly limits: MimeLimits;
  private readonly onTransaction: ((tx: SmtpTransaction) => void) | null;

  /** First line of the server greeting, code excluded. */
  greeting = '';
  /** HELO/EHLO argument (the first accepted one). */
  helo = '';
  /** STARTTLS was accepted: the rest of the connection is TLS and is not parsed. */
  tlsStarted = false;
  /** Mechanism of the last AUTH command (`PLAIN`, `LOGIN`), uppercased. */
  authMechanism = '';
  /** 235 replies to AUTH exchanges (successful logins). */
  authSuccesses = 0;
  /** 535 replies to AUTH exchanges (failed logins, for the brute-force detector). */
  authFailures = 0;
  /** Command lines parsed (AUTH responses and message bytes excluded). */
  commandCount = 0;
  /** EHLO keywords the server announced (`PIPELINING`, `SIZE 10240000`, `AUTH PLAIN LOGIN`). */
  extensions: string[] = [];

  constructor(opts: SmtpOptions = {}) {
    this.onTransaction = opts.onTransaction ?? null;
    this.limits = {
      fileLimit: Math.max(0, opts.fileLimit ?? DEFAULT_FILE_LIMIT),
      bodyLimit: Math.max(0, opts.bodyLimit ?? DEFAULT_BODY_LIMIT),
      dataLimit: Math.max(0, opts.txDataLimit ?? DEFAULT_TX_DATA_LIMIT),
      hash: opts.hashFiles === true,
    };
  }

  /** Finished transactions not yet taken (only used without `onTransaction`). */
  drain(): SmtpTransaction[] {
    return this.queue.splice(0, this.queue.length);
  }

  /** Transactions seen but not yet delivered. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Commands waiting for their reply. */
  get pendingCommands(): number {
    return this.qCount;
  }

  /**
   * Feeds in-order bytes of one direction.
   * @param dir 0 = client to server (commands, messages), 1 = server to client (replies)
   */
  feed(dir: 0 | 1, buf: Uint8Array, off: number, len: number, tsUs: number): void {
    if (this.closed || len <= 0 || off < 0 || off + len > buf.length) return;
    // One Buffer view per call so indexOf stays inside [off, off+len); reused for a recycled buffer.
    let b: Buffer;
    if (buf === this.lastIn && this.lastView !== null) b = this.lastView;
    else {
      b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
      this.lastIn = buf;
      this.lastView = b;
    }
    if (dir === 0) {
      this.cli.tsUs = tsUs;
      this.client(b, off, off + len);
    } else {
      this.srv.tsUs = tsUs;
      this.server(b, off, off + len);
    }
    this.deliver();
  }

  /**
   * The connection ended: parses an unterminated last line of each side, ends a message in
   * progress (its status tells where it stopped), delivers everything pending.
   */
  close(tsUs = 0): void {
    if (this.closed) return;
    if (tsUs !== 0) this.cli.tsUs = this.srv.tsUs = tsUs;
    if (this.mode === M_CMD && (this.cli.lineLen > 0 || this.cli.over)) this.bufferedLine(this.cli, true);
    if (!this.serverStopped && (this.srv.lineLen > 0 || this.srv.over)) this.bufferedLine(this.srv, false);
    if (this.dataTx !== null) {
      const tx = this.dataTx;
      this.endMessage(false);
      tx.done = true;
    }
    this.closed = true;
    this.cli.line = this.srv.line = null;
    if (this.orphan.length > 0) {
      // Anomalies outside any transaction (a bad greeting, a stray reply) still get delivered.
      const tx = this.openTx(this.cli.tsUs !== 0 ? this.cli.tsUs : this.srv.tsUs, true);
      tx.done = true;
    }
    while (this.pending.length > 0) {
      const tx = this.pending.shift()!;
      tx.done = true;
      this.emit(tx);
    }
    this.qTx.fill(null);
    this.qCount = 0;
  }

  // ---------------------------------------------------------------- client side

  private client(b: Buffer, p: number, end: number): void {
    while (p < end) {
      const m = this.mode;
      if (m === M_TLS) return;
      if (m === M_DATA) p = this.dataBytes(b, p, end);
      else if (m === M_BDAT) p = this.bdatBytes(b, p, end);
      else {
        // A TLS record right after STARTTLS (its 220 not fed yet): the client has switched.
        if (this.cli.lineLen === 0 && this.qCount > 0 && this.lastKind() === K_STARTTLS && b[p] === 0x16) {
          this.mode = M_TLS;
          return;
        }
        p = this.lineStep(this.cli, b, p, end, true);
      }
    }
  }

  /** DATA: scans for `.` lines (end, or dot-stuffing) and streams the rest to the MIME parser. */
  private dataBytes(b: Buffer, p: number, end: number): number {
    const mime = this.mime!;
    while (p < end) {
      const st = this.dState;
      if (st === D_LINE) {
        let lf = b.indexOf(10, p);
        if (lf >= end) lf = -1;
        if (lf < 0) {
          mime.write(b, p, end);
          this.lastCr = b[end - 1] === 13;
          return end;
        }
        mime.write(b, p, lf + 1);
        this.prevBareLf = lf > p ? b[lf - 1] !== 13 : !this.lastCr;
        this.dState = D_START;
        p = lf + 1;
        continue;
      }
      const c = b[p]!;
      if (st === D_START) {
        if (c === 46) {
          this.dState = D_DOT;
          p++;
        } else {
          this.dState = D_LINE;
          this.lastCr = false;
        }
      } else if (st === D_DOT) {
        if (c === 10) {
          this.endOfData(true);
          return p + 1;
        }
        if (c === 13) {
          this.dState = D_DOT_CR;
          p++;
        } else {
          // A stuffed dot (RFC 5321 4.5.2): dropped, the line goes on.
          this.dState = D_LINE;
          this.lastCr = false;
        }
      } else {
        if (c === 10) {
          this.endOfData(false);
          return p + 1;
        }
        mime.write(CR, 0, 1); // ".\r" then something else: the dot was stuffing
        this.lastCr = true;
        this.dState = D_LINE;
      }
    }
    return p;
  }

  /** The `.` line: `bareDotLine` when it ended with a bare LF. */
  private endOfData(bareDotLine: boolean): void {
    const tx = this.dataTx!;
    // RFC 5321 4.1.1.4: only CRLF.CRLF ends data; servers that accept bare LFs around the dot
    // disagree with strict ones on where a message ends (SMTP smuggling, CVE-2023-51764).
    if (bareDotLine || this.prevBareLf) this.ev(tx, SMTP_EVENT.NON_CRLF_END_OF_DATA);
    this.endMessage(true);
    tx.done = true;
    this.push(K_DATA_END, tx);
    this.mode = M_CMD;
  }

  private bdatBytes(b: Buffer, p: number, end: number): number {
    const n = end - p < this.bdatLeft ? end - p : this.bdatLeft;
    this.mime!.write(b, p, p + n);
    this.bdatLeft -= n;
    if (this.bdatLeft === 0) this.bdatChunkDone();
    return p + n;
  }

  private bdatChunkDone(): void {
    this.mode = M_CMD;
    this.afterBdat = true;
    if (this.bdatLast) {
      const tx = this.dataTx!;
      this.endMessage(true);
      tx.done = true;
    }
  }

  private beginMessage(tx: SmtpTransaction): void {
    if (this.scratch === null) this.scratch = new Uint8Array(8192);
    this.mime = new MimeParser(tx, this.limits, this.scratch);
    this.dataTx = tx;
    tx.hasMessage = true;
  }

  private endMessage(complete: boolean): void {
    const tx = this.dataTx!;
    const mime = this.mime!;
    mime.end(complete);
    tx.messageSize = mime.size;
    this.mime = null;
    this.dataTx = null;
  }

  // ---------------------------------------------------------------- lines

  /** Handles one line (or buffers a partial one) from `p`; returns where the next starts. */
  private lineStep(side: Side, b: Buffer, p: number, end: number, isClient: boolean): number {
    let lf = b.indexOf(10, p);
    if (lf >= end) lf = -1;
    if (lf < 0) {
      this.append(side, b, p, end);
      return end;
    }
    if (side.lineLen === 0 && !side.over) {
      let e = lf;
      if (e > p && b[e - 1] === 13) e--;
      if (e - p > MAX_LINE) this.line(isClient, b, p, p + MAX_LINE, true);
      else this.line(isClient, b, p, e, false);
    } else {
      this.append(side, b, p, lf);
      this.bufferedLine(side, isClient);
    }
    return lf + 1;
  }

  /** Parses and clears the side's buffered line. */
  private bufferedLine(side: Side, isClient: boolean): void {
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
    if (line !== null) this.line(isClient, line, 0, n, trunc);
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

  private line(isClient: boolean, b: Buffer, s: number, e: number, truncated: boolean): void {
    if (isClient) this.commandLine(b, s, e, truncated);
    else this.replyLine(b, s, e, truncated);
  }

  // ---------------------------------------------------------------- commands

  private commandLine(b: Buffer, s: number, e: number, truncated: boolean): void {
    if (e === s && !truncated) return; // empty line: nothing to answer
    if (this.authExpect) {
      // A response to a 334 challenge: credentials, so neither parsed nor kept (RFC 4954 4).
      this.authExpect = false;
      this.push(K_AUTH_DATA, this.liveCur());
      return;
    }
    this.commandCount++;
    const ve = tokenEnd(b, s, e);
    const verb = ve - s <= 12 ? b.toString('latin1', s, ve).toUpperCase() : '';
    const ts = this.cli.tsUs;
    const tx = verb === 'QUIT' || verb === 'RSET' ? this.liveCur() : this.openTx(ts, false);
    if (verb !== 'AUTH') {
      // RFC 4954 4 lets AUTH lines run to 12288 octets.
      if (truncated) this.ev(tx, SMTP_EVENT.TRUNCATED_LINE);
      if (e - s > MAX_COMMAND_LINE) this.ev(tx, SMTP_EVENT.MAX_COMMAND_LINE_LEN_EXCEEDED);
    }
    if (!this.greetingSeen && !this.noWelcomeFlagged) {
      this.noWelcomeFlagged = true;
      this.ev(tx, SMTP_EVENT.NO_SERVER_WELCOME_MESSAGE);
    }
    // RFC 3207 4.2: nothing may follow STARTTLS before its reply (the CVE-2011-0411 injection).
    if (this.qCount > 0 && this.lastKind() === K_STARTTLS) this.ev(tx, SMTP_EVENT.INVALID_PIPELINED_SEQUENCE);
    const afterBdat = this.afterBdat;
    this.afterBdat = false;
    const a = skipSpaces(b, ve, e);
    switch (verb) {
      case 'HELO':
      case 'EHLO': {
        const arg = b.toString('utf8', a, tokenEnd(b, a, e));
        if (this.helo !== '' && this.heloAccepted) this.ev(tx, SMTP_EVENT.DUPLICATE_FIELDS);
        else this.helo = arg; // a HELO after a refused EHLO replaces it (RFC 5321 4.1.4)
        tx!.helo = this.helo;
        this.push(verb === 'EHLO' ? K_EHLO : K_HELO, tx);
        break;
      }
      case 'MAIL': {
        const path = this.path(b, a, e, 'FROM');
        if (tx!.mailFrom !== '' && !(tx!.mailFromReply >= 400)) this.ev(tx, SMTP_EVENT.DUPLICATE_FIELDS);
        else {
          tx!.mailFrom = path;
          tx!.mailFromReply = -1;
        }
        this.push(K_MAIL, tx);
        break;
      }
      case 'RCPT':
        if (tx!.rcptTo.length < MAX_RCPT) tx!.rcptTo.push(this.path(b, a, e, 'TO'));
        else this.ev(tx, SMTP_EVENT.TOO_MANY_RECIPIENTS);
        this.push(K_RCPT, tx);
        break;
      case 'DATA':
        this.data(tx!);
        break;
      case 'BDAT':
        this.bdat(tx!, b, a, e);
        break;
      case 'STARTTLS':
        this.push(K_STARTTLS, tx);
        break;
      case 'AUTH': {
        const me = tokenEnd(b, a, e);
        this.authMechanism = b.toString('latin1', a, me - a > 40 ? a + 40 : me).toUpperCase();
        this.push(K_AUTH, tx);
        break;
      }
      case 'RSET':
      case 'QUIT':
        if (tx !== null) tx.done = true;
        this.push(verb === 'RSET' ? K_RSET : K_QUIT, tx);
        break;
      default:
        if (afterBdat && !KNOWN_VERBS.has(verb)) this.ev(tx, SMTP_EVENT.BDAT_CHUNK_LEN_EXCEEDED);
        this.push(K_OTHER, tx);
    }
  }

  /** `FROM:<path> params` / `TO:<path>`: the path as sent (Suricata's mail_from / rcpt_to). */
  private path(b: Buffer, a: number, e: number, kw: string): string {
    let i = a;
    if (startsWithCI(b, i, e, kw)) i = skipSpaces(b, i + kw.length, e);
    if (i < e && b[i] === 58) i = skipSpaces(b, i + 1, e); // ':'
    return b.toString('utf8', i, tokenEnd(b, i, e));
  }

  private data(tx: SmtpTransaction): void {
    if (this.dataTx !== null) {
      // DATA in the middle of a BDAT message (RFC 3030 2: not allowed): that message is lost.
      const old = this.dataTx;
      this.ev(old, SMTP_EVENT.UNPARSABLE_CONTENT);
      this.mime!.abort();
      old.messageSize = this.mime!.size;
      this.mime = null;
      this.dataTx = null;
      old.done = true;
      if (tx === old) tx = this.openTx(this.cli.tsUs, false);
    }
    this.push(K_DATA, tx);
    this.beginMessage(tx);
    this.mode = M_DATA;
    this.dState = D_START;
    this.prevBareLf = false;
    this.lastCr = false;
  }

  /** `BDAT size [LAST]` (RFC 3030 2). */
  private bdat(tx: SmtpTransaction, b: Buffer, a: number, e: number): void {
    let i = a;
    let size = 0;
    while (i < e && isDigit(b[i]!) && i - a < 15) size = size * 10 + (b[i++]! - 48);
    const te = tokenEnd(b, a, e);
    const l = skipSpaces(b, te, e);
    const last = startsWithCI(b, l, e, 'LAST') && tokenEnd(b, l, e) === l + 4;
    if (i === a || i !== te || (l < e && !last)) {
      this.ev(tx, SMTP_EVENT.UNPARSABLE_CONTENT);
      this.push(K_OTHER, tx);
      return;
    }
    if (this.dataTx !== tx) {
      if (this.dataTx !== null) {
        this.mime!.abort();
        this.dataTx.done = true;
        this.mime = null;
        this.dataTx = null;
      }
      this.beginMessage(tx);
    }
    this.push(last ? K_BDAT_LAST : K_BDAT, tx);
    this.mode = M_BDAT;
    this.bdatLeft = size;
    this.bdatLast = last;
    if (size === 0) this.bdatChunkDone();
  }

  // ---------------------------------------------------------------- replies

  private replyLine(b: Buffer, s: number, e: number, truncated: boolean): void {
    const n = e - s;
    if (n === 0 && !truncated) return;
    const target = this.replyTarget();
    if (truncated) this.ev(target, SMTP_EVENT.TRUNCATED_LINE);
    if (n > MAX_REPLY_LINE) this.ev(target, SMTP_EVENT.MAX_REPLY_LINE_LEN_EXCEEDED);
    if (n < 3 || !isDigit(b[s]!) || !isDigit(b[s + 1]!) || !isDigit(b[s + 2]!)) {
      this.ev(target, SMTP_EVENT.INVALID_REPLY);
      return;
    }
    const code = (b[s]! - 48) * 100 + (b[s + 1]! - 48) * 10 + (b[s + 2]! - 48);
    const sep = n > 3 ? b[s + 3]! : 32;
    if (this.replyLineIdx === 0) {
      this.replyCode = code;
      // RFC 5321 4.2: the first digit is 2 to 5.
      if (code < 200 || code >= 600) this.ev(target, SMTP_EVENT.INVALID_REPLY);
      if (this.qCount === 0 && !this.greetingSeen) this.greeting = b.toString('utf8', n > 4 ? s + 4 : e, e);
    } else if (
      this.qCount > 0 &&
      this.qKind[this.qHead] === K_EHLO &&
      code < 300 &&
      this.extensions.length < MAX_EXTENSIONS &&
      n > 4
    ) {
      // Lines after the first of an EHLO reply are the service extensions (RFC 5321 4.1.1.1).
      this.extensions.push(b.toString('latin1', s + 4, n - 4 > 128 ? s + 132 : e).trim());
    }
    if (sep === 45) {
      this.replyLineIdx++; // a multi-line reply goes on (RFC 5321 4.2.1)
      return;
    }
    if (sep !== 32) this.ev(target, SMTP_EVENT.INVALID_REPLY);
    this.replyLineIdx = 0;
    this.reply(this.replyCode);
  }

  /** A complete reply with `code`: matched to the oldest command waiting. */
  private reply(code: number): void {
    if (this.qCount === 0) {
      if (!this.greetingSeen) {
        this.greetingSeen = true;
        if (code !== 220) this.ev(this.liveCur(), SMTP_EVENT.INVALID_REPLY); // 554: no service
      } else this.ev(this.liveCur(), SMTP_EVENT.UNABLE_TO_MATCH_REPLY_WITH_REQUEST);
      return;
    }
    this.greetingSeen = true;
    const kind = this.qKind[this.qHead]!;
    const tx = this.qTx[this.qHead]!;
    this.qTx[this.qHead] = null;
    this.qHead = (this.qHead + 1) % MAX_PENDING_COMMANDS;
    this.qCount--;
    const live = tx !== null && !tx.delivered ? tx : null;
    switch (kind) {
      case K_HELO:
      case K_EHLO:
        if (code >= 200 && code < 300) this.heloAccepted = true;
        break;
      case K_MAIL:
        if (live !== null) live.mailFromReply = code;
        break;
      case K_DATA:
        if (code !== 354) {
          this.ev(live, SMTP_EVENT.DATA_COMMAND_REJECTED);
          // Refused before any message byte: the client goes on with commands.
          const d = this.dataTx;
          if (this.mode === M_DATA && d !== null && d === tx && this.mime!.size === 0 && this.dState === D_START) {
            d.hasMessage = false;
            this.mime = null;
            this.dataTx = null;
            this.mode = M_CMD;
          }
        }
        break;
      case K_DATA_END:
      case K_BDAT_LAST:
        if (live !== null) live.dataReplyCode = code;
        break;
      case K_STARTTLS:
        if (code === 220) {
          // RFC 3207 4.2: TLS starts right after this reply, both ways.
          this.tlsStarted = true;
          if (live !== null) {
            live.startTls = true;
            live.done = true;
          }
          this.mode = M_TLS;
          this.serverStopped = true;
        } else this.ev(live, SMTP_EVENT.TLS_REJECTED);
        break;
      case K_AUTH:
      case K_AUTH_DATA:
        if (code === 334) this.authExpect = true;
        else {
          this.authExpect = false;
          if (code === 235) this.authSuccesses++;
          else if (code === 535) this.authFailures++;
        }
        break;
      default:
        break;
    }
    if (tx !== null) tx.outstanding--;
  }

  // ---------------------------------------------------------------- transactions

  /** The transaction to hold a command: the current one, or a new one when it has ended. */
  private openTx(tsUs: number, force: boolean): SmtpTransaction {
    const c = this.cur;
    if (!force && c !== null && !c.done && !c.delivered) return c;
    const tx = new SmtpTransaction(this.nextId++);
    tx.tsUs = tsUs;
    tx.helo = this.helo;
    for (const ev of this.orphan) tx.addEvent(ev);
    this.orphan.length = 0;
    this.cur = tx;
    this.pending.push(tx);
    if (this.pending.length > MAX_PENDING_TX) {
      // The server is not answering (or not seen): hand the oldest over without its replies.
      const old = this.pending.shift()!;
      old.addEvent(SMTP_EVENT.TOO_MANY_TRANSACTIONS);
      old.done = true;
      this.emit(old);
    }
    return tx;
  }

  private liveCur(): SmtpTransaction | null {
    const c = this.cur;
    return c !== null && !c.delivered ? c : null;
  }

  /** Where a reply-side event goes: the transaction of the command answered, else the current one. */
  private replyTarget(): SmtpTransaction | null {
    if (this.qCount > 0) {
      const t = this.qTx[this.qHead]!;
      if (t !== null && !t.delivered) return t;
    }
    return this.liveCur();
  }

  private ev(tx: SmtpTransaction | null, e: SmtpEvent): void {
    if (tx !== null && !tx.delivered) tx.addEvent(e);
    else if (!this.orphan.includes(e)) this.orphan.push(e);
  }

  private lastKind(): number {
    return this.qKind[(this.qHead + this.qCount - 1) % MAX_PENDING_COMMANDS]!;
  }

  /** Queues a command for its reply. */
  private push(kind: number, tx: SmtpTransaction | null): void {
    if (this.qCount === MAX_PENDING_COMMANDS) {
      const old = this.qTx[this.qHead]!;
      this.qTx[this.qHead] = null;
      this.qHead = (this.qHead + 1) % MAX_PENDING_COMMANDS;
      this.qCount--;
      if (old !== null) old.outstanding--;
      this.ev(old ?? tx, SMTP_EVENT.TOO_MANY_PENDING_COMMANDS);
    }
    const i = (this.qHead + this.qCount) % MAX_PENDING_COMMANDS;
    this.qKind[i] = kind;
    this.qTx[i] = tx;
    this.qCount++;
    if (tx !== null) tx.outstanding++;
  }

  private deliver(): void {
    while (this.pending.length > 0) {
      const t = this.pending[0]!;
      if (!t.done || t.outstanding > 0) return;
      this.pending.shift();
      this.emit(t);
    }
  }

  private emit(tx: SmtpTransaction): void {
    tx.delivered = true;
    if (tx.helo === '') tx.helo = this.helo;
    if (this.onTransaction !== null) this.onTransaction(tx);
    else this.queue.push(tx);
  }

  // ---------------------------------------------------------------- server side

  private server(b: Buffer, p: number, end: number): void {
    while (p < end && !this.serverStopped) p = this.lineStep(this.srv, b, p, end, false);
  }
}
