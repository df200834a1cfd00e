/**
 * Brute-force detector: failed authentications per (source, destination, service) in a sliding
 * window, and, where the authentication is encrypted, many short authentication sessions.
 *
 * Signals:
 * - FTP: a PASS (or USER) answered 530/430 (RFC 959 "Not logged in").
 * - HTTP logins: a request carrying a password-like form/JSON/query field, or HTTP Basic
 *   credentials, that fails: 401/403/429, a redirect back to a login/error page, a body with a
 *   failure phrase, or the same non-redirect response (status and length) again and again for
 *   different credentials (a success usually redirects or returns something else).
 * - Telnet: "Login incorrect" and similar from the server (ports 23/2323; Telnet has no parser).
 * - SSH: encrypted, so many short SSH sessions (identified by banner, any port) from one source.
 * - Other authentication services without a parser (RDP, VNC, SMB, POP3/IMAP, Telnet): many short
 *   sessions that exchanged data both ways.
 * A failure counts only for credentials not already tried in the episode (a client re-sending the
 * same wrong password is a misconfiguration, not guessing). One alert per episode and key; the
 * episode ends after `window_s` without authentication activity. Thresholds: docs/behavior.md.
 */
import type { PacketBatch } from '../../capture/batch.js';
import type { DecodedBatch } from '../../decode/batch.js';
import type { FlowRecord } from '../../flow/table.js';
import type { AppRecord, FtpRecord, HttpRecord, SshRecord } from '../../applayer/app-layer.js';
import type { HttpTransaction } from '../../applayer/http/parser.js';
import { formatIp } from '../../flow/key.js';
import type { BehaviorAlert, BehaviorContext, BehaviorDetector, BehaviorSeverity } from './types.js';

export const BRUTE_FORCE_NAME = 'brute_force';

/** Defaults (documented in docs/behavior.md). */
export const BRUTE_FORCE_DEFAULTS: Readonly<Record<string, number>> = Object.freeze({
  /** Sliding window for failures and sessions, seconds (fail2ban findtime 600, ET SSH scan 120). */
  window_s: 300,
  /** Failed logins with distinct credentials in the window (FTP, HTTP, Telnet). */
  min_failures: 8,
  /** Short SSH sessions from one source to one server in the window (ET's SSH scan rule: 5 in 120 s). */
  ssh_min_sessions: 6,
  /** Short sessions to other authentication ports (RDP, VNC, SMB, POP3/IMAP, Telnet) in the window. */
  min_sessions: 20,
  /** A session is "short" when it lasted at most this long, seconds... */
  session_max_s: 60,
  /** ...and carried at most this many bytes both ways (frame bytes). */
  session_max_bytes: 20000,
});

const SID = { ftp: 9200301, http: 9200302, telnet: 9200303, ssh: 9200304, sessions: 9200305 } as const;
const MITRE = ['T1110', 'T1110.001'];

/** Authentication services recognised by port only (no parser): short sessions are counted. */
const SESSION_PORTS: ReadonlyMap<number, string> = new Map([
  [23, 'telnet'],
  [2323, 'telnet'],
  [110, 'pop3'],
  [995, 'pop3'],
  [143, 'imap'],
  [993, 'imap'],
  [445, 'smb'],
  [3389, 'rdp'],
  [5900, 'vnc'],
  [5901, 'vnc'],
]);

/** Failure messages of common Telnet login programs (util-linux login, BusyBox, Cisco/Windows). */
const TELNET_FAIL = [
  'login incorrect',
  'login failed',
  'authentication failed',
  'logon failure',
  '% bad passwords',
].map((s) => Buffer.from(s, 'latin1'));
/** Telnet server ports (23, and 2323 used by IoT devices) are searched for these, in short segments only. */
const TELNET_MAX_PAYLOAD = 1024;

/** Entries (source, destination, service) kept at most; the least recently active is evicted. */
const MAX_ENTRIES = 16384;
/** Credential hashes remembered per entry (for the distinct-credentials rule). */
const CRED_RING = 64;
/** Response shapes remembered per HTTP entry (for "the same response again and again"). */
const SHAPES = 4;
/** Sample usernames reported per alert. */
const MAX_USERS = 5;
/** Request bodies larger than this are not login forms. */
const MAX_FORM_BODY = 8192;
/** Pending USER names per FTP control connection. */
const MAX_FTP_PENDING = 4096;

const TCP_SYN = 0x02;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

type Kind = keyof typeof SID;

class Entry {
  /** Failure times (ring, newest at head - 1). */
  readonly fail: Float64Array;
  failN = 0;
  failHead = 0;
  /** Short-session times (ring). */
  readonly sess: Float64Array;
  sessN = 0;
  sessHead = 0;
  readonly creds = new Uint32Array(CRED_RING);
  credN = 0;
  credHead = 0;
  readonly shapeKey = new Float64Array(SHAPES);
  readonly shapeCount = new Uint32Array(SHAPES);
  shapeN = 0;
  attempts = 0;
  failures = 0;
  successes = 0;
  sessions = 0;
  users: string[] = [];
  software = '';
  alerted = false;
  firstUs = 0;
  lastUs = 0;
  lastTelnetSeq = -1;

  constructor(
    readonly src: string,
    readonly dst: string,
    readonly ipVer: 4 | 6,
    readonly service: string,
    readonly port: number,
    failCap: number,
    sessCap: number,
  ) {
    this.fail = new Float64Array(failCap);
    this.sess = new Float64Array(sessCap);
  }

  /** Start a new episode. */
  reset(tsUs: number): void {
    this.failN = this.failHead = this.sessN = this.sessHead = this.credN = this.credHead = this.shapeN = 0;
    this.attempts = this.failures = this.successes = this.sessions = 0;
    this.users = [];
    this.alerted = false;
    this.firstUs = tsUs;
  }
}

/** Ring push; returns the new count. */
function push(ring: Float64Array, head: number, n: number, v: number): [number, number] {
  ring[head] = v;
  return [(head + 1) % ring.length, Math.min(n + 1, ring.length)];
}

/** Ring entries at or after `since`, and the earliest of them. */
function inWindow(ring: Float64Array, n: number, since: number): { count: number; first: number } {
  let count = 0;
  let first = Infinity;
  for (let k = 0; k < n; k++) {
    const t = ring[k]!;
    if (t >= since) {
      count++;
      if (t < first) first = t;
    }
  }
  return { count, first };
}

/** FNV-1a of a string (credential identity; not security relevant). */
export function strHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0 || 1;
}

/** Decode `%XX` and `+` (form encoding) without throwing on bad escapes. */
function formDecode(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '+') out += ' ';
    else if (c === '%' && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += c;
  }
  return out;
}

/**
 * Is a form field name a password field? The last word of the name (`password`, `j_password`,
 * `userPassword`, `login[pass]`, `pwd`), not any name containing "pass" (`passenger`).
 */
export function isPasswordField(name: string): boolean {
  const n = name.toLowerCase().replace(/[\]"'\s]+$/, '');
  return /(?:^|[^a-z])pw$|(?:pass(?:word|wd|wrd|phrase|wort)?|pwd|pword|kennwort|senha|contrase(?:n|ñ)a|mot_?de_?passe|mdp)$/.test(
    n,
  );
}

/** Is a form field name a user-name field? */
export function isUserField(name: string): boolean {
  const n = name.toLowerCase().replace(/[\]"'\s]+$/, '');
  if (isPasswordField(n)) return false;
  return /(?:user(?:name|_?id)?|login|e-?mail|uname|usr|account|^log|^name|^uid|^j_username)$/.test(n);
}

/** Credentials found in a request: a user name (may be '') and a hash of user and password. */
export interface LoginAttempt {
  user: string;
  cred: number;
}

/** Cheap pre-filter: text that cannot hold a password field name. */
const PASSWORD_HINT = /pass|pw|senha|kennwort|contrase|mdp/i;

/** Form fields of a body or query string (`a=b&c=d`), JSON objects (`"a": "b"`) or multipart parts. */
function fields(text: string, contentType: string, out: [string, string][]): void {
  const ct = contentType.toLowerCase();
  if (ct.includes('json') || text.trimStart().startsWith('{')) {
    const re = /"([^"\\]{1,64})"\s*:\s*(?:"((?:[^"\\]|\\.){0,256})"|([^,}\s]{0,64}))/g;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push([m[1]!, m[2] ?? m[3] ?? '']);
    return;
  }
  if (ct.includes('multipart')) {
    const re = /name="([^"]{1,64})"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n([^\r\n]{0,256})/g;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push([m[1]!, m[2]!]);
    return;
  }
  let p = 0;
  while (p <= text.length) {
    let e = text.indexOf('&', p);
    if (e < 0) e = text.length;
    const eq = text.indexOf('=', p);
    if (eq > p && eq < e) out.push([formDecode(text.slice(p, eq)), formDecode(text.slice(eq + 1, e))]);
    p = e + 1;
  }
}

/**
 * The login attempt an HTTP request makes, or null: a password-like field in the body (POST/PUT
 * forms, JSON, multipart) or the query string, or HTTP Basic credentials.
 */
export function loginAttempt(tx: HttpTransaction): LoginAttempt | null {
  const list: [string, string][] = [];
  if (tx.requestBody.length > 0 && tx.requestBodyLength <= MAX_FORM_BODY) {
    const body = Buffer.from(tx.requestBody.buffer, tx.requestBody.byteOffset, tx.requestBody.length).toString(
      'latin1',
    );
    if (PASSWORD_HINT.test(body)) fields(body, tx.contentType, list);
  }
  const q = tx.uriRaw.indexOf('?');
  if (q >= 0 && PASSWORD_HINT.test(tx.uriRaw)) fields(tx.uriRaw.slice(q + 1), '', list);
  let pass: string | null = null;
  let user = '';
  for (const [k, v] of list) {
    if (pass === null && isPasswordField(k)) pass = v;
    else if (user === '' && isUserField(k)) user = v;
  }
  if (pass !== null) return { user, cred: strHash(user + '\u0000' + pass) };
  for (const [name, value] of tx.requestHeaders) {
    if (name.toLowerCase() !== 'authorization') continue;
    const v = value.trim();
    if (!/^basic\s+/i.test(v)) continue;
    const decoded = Buffer.from(v.replace(/^basic\s+/i, ''), 'base64').toString('latin1');
    const colon = decoded.indexOf(':');
    return { user: colon >= 0 ? decoded.slice(0, colon) : '', cred: strHash(v) };
  }
  return null;
}

/** A failure message in a login response (English; the common phrasings of login pages and APIs). */
const FAIL_BODY =
  /\b(?:invalid|incorrect|wrong|bad|unknown)\b[^<>\n]{0,40}\b(?:user|login|password|passwd|credential|e-?mail|account)|\b(?:user(?:name)?|password|credentials?|login)\b[^<>\n]{0,40}\b(?:incorrect|invalid|wrong|not (?:valid|correct|recogni[sz]ed))|\b(?:login|log-in|logon|sign-in|signin|authentication)\s+(?:failed|failure|unsuccessful|error|denied)|access denied|invalid_grant|not authori[sz]ed|unauthori[sz]ed/i;
/** A redirect back to a login or error page after a login POST is a failure. */
const FAIL_LOCATION = /login|signin|sign-in|logon|auth|error|fail|denied|retry/i;
/** Response bytes searched for a failure phrase. */
const FAIL_BODY_SCAN = 4096;

/** How an HTTP login attempt ended: 1 failure, 2 success, 3 ambiguous (2xx/4xx page), 0 unknown. */
export function httpOutcome(tx: HttpTransaction): 0 | 1 | 2 | 3 {
  const st = tx.status;
  if (st === 401 || st === 403 || st === 429) return 1;
  if (st >= 300 && st < 400) {
    // A redirect to the same path with an error query string (`/login?error`) or to a login page;
    // the host part is left out (`auth.example.com` says nothing about the outcome).
    let path = tx.location;
    const scheme = path.indexOf('://');
    if (scheme >= 0) {
      const slash = path.indexOf('/', scheme + 3);
      path = slash < 0 ? '' : path.slice(slash);
    }
    return FAIL_LOCATION.test(path) ? 1 : 2;
  }
  if ((st >= 200 && st < 300) || (st >= 400 && st < 500)) {
    const body = tx.responseBody;
    if (body.length > 0) {
      const text = Buffer.from(body.buffer, body.byteOffset, Math.min(body.length, FAIL_BODY_SCAN)).toString('latin1');
      if (FAIL_BODY.test(text)) return 1;
    }
    return 3;
  }
  return 0;
}

function printable(s: string): string {
  return s.replace(/[^\x21-\x7e]/g, '?').slice(0, 64);
}

export function createBruteForce(ctx: BehaviorContext): BehaviorDetector {
  const p = { ...BRUTE_FORCE_DEFAULTS, ...ctx.cfg.params[BRUTE_FORCE_NAME] };
  const windowUs = p['window_s']! * 1e6;
  const minFailures = Math.max(1, Math.round(p['min_failures']!));
  const sshMin = Math.max(1, Math.round(p['ssh_min_sessions']!));
  const sessMin = Math.max(1, Math.round(p['min_sessions']!));
  const sessMaxUs = p['session_max_s']! * 1e6;
  const sessMaxBytes = p['session_max_bytes']!;
  const failCap = Math.min(minFailures, 4096);
  const sessCap = Math.min(Math.max(sshMin, sessMin), 4096);

  /** Entries by "src|dst|service|port", least recently active first (Map order, touched = re-inserted). */
  const entries = new Map<string, Entry>();
  /** USER argument per FTP control connection (flow id), until its PASS. */
  const ftpUser = new Map<number, string>();
  let lastSweepUs = 0;

  function entry(src: string, dst: string, service: string, port: number, tsUs: number): Entry {
    const key = `${src}|${dst}|${service}|${port}`;
    let e = entries.get(key);
    if (e !== undefined) {
      entries.delete(key);
      if (tsUs - e.lastUs > windowUs) e.reset(tsUs);
    } else {
      if (entries.size >= MAX_ENTRIES) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      e = new Entry(src, dst, src.includes(':') ? 6 : 4, service, port, failCap, sessCap);
      e.reset(tsUs);
    }
    entries.set(key, e);
    if (tsUs > e.lastUs) e.lastUs = tsUs;
    return e;
  }

  function addUser(e: Entry, user: string): void {
    if (user === '' || e.users.length >= MAX_USERS) return;
    const u = printable(user);
    if (!e.users.includes(u)) e.users.push(u);
  }

  /** Remember a credential; false when it was already tried in this episode. */
  function newCred(e: Entry, cred: number): boolean {
    if (cred === 0) return true;
    for (let k = 0; k < e.credN; k++) if (e.creds[k] === cred) return false;
    e.creds[e.credHead] = cred;
    e.credHead = (e.credHead + 1) % CRED_RING;
    e.credN = Math.min(e.credN + 1, CRED_RING);
    return true;
  }

  function failure(e: Entry, tsUs: number, kind: Kind, proto: number): void {
    e.failures++;
    [e.failHead, e.failN] = push(e.fail, e.failHead, e.failN, tsUs);
    if (e.alerted) return;
    const w = inWindow(e.fail, e.failN, tsUs - windowUs);
    if (w.count >= minFailures) raise(e, tsUs, kind, proto, w.count, w.first, 0);
  }

  function session(e: Entry, tsUs: number, kind: Kind): void {
    e.sessions++;
    [e.sessHead, e.sessN] = push(e.sess, e.sessHead, e.sessN, tsUs);
    if (e.alerted) return;
    const need = kind === 'ssh' ? sshMin : sessMin;
    const w = inWindow(e.sess, e.sessN, tsUs - windowUs);
    if (w.count >= need) raise(e, tsUs, kind, 6, 0, w.first, w.count);
  }

  function raise(
    e: Entry,
    tsUs: number,
    kind: Kind,
    proto: number,
    fails: number,
    first: number,
    sessions: number,
  ): void {
    e.alerted = true;
    const svc = e.service.toUpperCase();
    const bySessions = kind === 'ssh' || kind === 'sessions';
    const evidence: BehaviorAlert['evidence'] = {
      service: [e.service],
      attempts: [Math.max(e.attempts, e.failures, e.sessions)],
      window_s: [p['window_s']!],
      span_s: [Math.round((tsUs - first) / 1e5) / 10],
    };
    if (bySessions) evidence['short_sessions'] = [sessions];
    else evidence['failures'] = [fails];
    if (e.successes > 0) evidence['successes'] = [e.successes];
    if (e.users.length > 0) evidence['usernames'] = e.users.slice();
    if (e.software !== '') evidence['client_software'] = [printable(e.software)];
    // A success after a run of failures suggests the guessing worked.
    const severity: BehaviorSeverity = e.successes > 0 && !bySessions ? 'critical' : 'high';
    ctx.emit({
      tsUs,
      sid: SID[kind],
      rev: 1,
      msg: bySessions
        ? `VIGIL BEHAVIOR ${svc} brute force (many short authentication sessions)`
        : `VIGIL BEHAVIOR ${svc} brute force (repeated failed logins)`,
      type: 'brute_force',
      severity,
      mitre: MITRE,
      srcIp: e.src,
      dstIp: e.dst,
      srcPort: 0,
      dstPort: e.port,
      proto,
      ipVer: e.ipVer,
      flowId: 0,
      evidence,
    });
  }

  function onFtp(rec: FtpRecord): void {
    const tx = rec.tx;
    const f = rec.flow;
    if (tx.command === 'USER') {
      if (ftpUser.size >= MAX_FTP_PENDING) {
        const oldest = ftpUser.keys().next().value;
        if (oldest !== undefined) ftpUser.delete(oldest);
      }
      ftpUser.set(f.flowId, tx.commandData);
      // "530 user not allowed": user-name guessing fails at USER already.
      if (tx.replyCode === 530) {
        const e = entry(f.srcIp, f.dstIp, 'ftp', f.dstPort, rec.tsUs);
        e.attempts++;
        addUser(e, tx.commandData);
        if (newCred(e, strHash('USER\u0000' + tx.commandData))) failure(e, rec.tsUs, 'ftp', f.proto);
      }
      return;
    }
    if (tx.command !== 'PASS') return;
    const user = ftpUser.get(f.flowId) ?? '';
    const code = tx.replyCode;
    if (code !== 530 && code !== 430 && code !== 230) return;
    const e = entry(f.srcIp, f.dstIp, 'ftp', f.dstPort, rec.tsUs);
    e.attempts++;
    addUser(e, user);
    if (code === 230) e.successes++;
    else if (newCred(e, strHash(user + '\u0000' + tx.commandData))) failure(e, rec.tsUs, 'ftp', f.proto);
  }

  function onHttp(rec: HttpRecord): void {
    const tx = rec.tx;
    const login = loginAttempt(tx);
    if (login === null) return;
    const f = rec.flow;
    const e = entry(f.srcIp, f.dstIp, 'http', f.dstPort, rec.tsUs);
    e.attempts++;
    addUser(e, login.user);
    const outcome = httpOutcome(tx);
    if (outcome === 2) {
      e.successes++;
      return;
    }
    if (outcome === 0 || !newCred(e, login.cred)) return;
    if (outcome === 1) {
      failure(e, rec.tsUs, 'http', f.proto);
      return;
    }
    // Ambiguous page: a failure once the same response shape answered two different credentials.
    const shape = tx.status * 4294967296 + tx.responseBodyLength;
    let k = 0;
    while (k < e.shapeN && e.shapeKey[k] !== shape) k++;
    if (k === e.shapeN) {
      if (e.shapeN < SHAPES) {
        e.shapeKey[e.shapeN] = shape;
        e.shapeCount[e.shapeN++] = 1;
      }
      return;
    }
    const c = ++e.shapeCount[k]!;
    if (c === 2) failure(e, rec.tsUs, 'http', f.proto);
    failure(e, rec.tsUs, 'http', f.proto);
  }

  function onSsh(rec: SshRecord): void {
    const client = rec.conn.client;
    if (client === null) return;
    const f = rec.flow;
    const key = `${f.srcIp}|${f.dstIp}|ssh|${f.dstPort}`;
    const e = entries.get(key);
    // Software of the latest client seen (libssh, paramiko, hydra... name the tool).
    if (e !== undefined) e.software = client.softwareVersion;
    else entry(f.srcIp, f.dstIp, 'ssh', f.dstPort, rec.tsUs).software = client.softwareVersion;
  }

  return {
    name: BRUTE_FORCE_NAME,

    packets(pkts: PacketBatch, dec: DecodedBatch): void {
      const n = dec.count;
      const sport = dec.sport;
      const proto = dec.proto;
      const payLen = dec.payLen;
      for (let i = 0; i < n; i++) {
        // Cheapest tests first: only Telnet server segments of login-prompt size.
        if (proto[i] !== 6) continue;
        const len = payLen[i]!;
        const sp = sport[i]!;
        if (len < 8 || len > TELNET_MAX_PAYLOAD || (sp !== 23 && sp !== 2323)) continue;
        const buf = dec.bufSel[i] === 1 ? dec.alt : pkts.buf;
        const off = dec.payOff[i]!;
        if (!containsAny(buf, off, len)) continue;
        const ipVer = dec.ipVer[i] === 6 ? 6 : 4;
        const client = formatIp(ipVer, dec.dst, i * 4);
        const server = formatIp(ipVer, dec.src, i * 4);
        const ts = pkts.tsUs[i]!;
        const e = entry(client, server, 'telnet', sp, ts);
        // A retransmitted failure line is one failure.
        const seq = dec.tcpSeq[i]!;
        if (seq === e.lastTelnetSeq) continue;
        e.lastTelnetSeq = seq;
        e.attempts++;
        failure(e, ts, 'telnet', 6);
      }
    },

    app(rec: AppRecord): void {
      if (rec.kind === 'ftp') onFtp(rec);
      else if (rec.kind === 'http') onHttp(rec);
      else if (rec.kind === 'ssh') onSsh(rec);
    },

    flowEnd(rec: FlowRecord): void {
      if (rec.appProto === 'ftp') ftpUser.delete(rec.flowId);
      if (rec.proto !== 6 || rec.tcp === undefined) return;
      const isSsh = rec.appProto === 'ssh';
      const service = isSsh ? 'ssh' : SESSION_PORTS.get(rec.dstPort);
      if (service === undefined) return;
      if (!isSsh && (rec.appProto === 'http' || rec.appProto === 'ftp' || rec.appProto === 'ssh')) return;
      // A completed handshake and data both ways: an authentication exchange, not a port probe.
      const t = rec.tcp;
      if ((t.flagsTs & TCP_SYN) === 0 || (t.flagsTc & (TCP_SYN | TCP_ACK)) !== (TCP_SYN | TCP_ACK)) return;
      if (!isSsh && ((t.flagsTs & TCP_PSH) === 0 || (t.flagsTc & TCP_PSH) === 0)) return;
      if (rec.endUs - rec.startUs > sessMaxUs || rec.bytesToServer + rec.bytesToClient > sessMaxBytes) return;
      const e = entry(rec.srcIp, rec.dstIp, service, rec.dstPort, rec.endUs);
      if (!isSsh) e.attempts++;
      session(e, rec.endUs, isSsh ? 'ssh' : 'sessions');
    },

    tick(nowUs: number): void {
      if (nowUs - lastSweepUs < 10e6) return;
      lastSweepUs = nowUs;
      // Map order is least recently active first: drop idle entries from the front.
      for (const [k, e] of entries) {
        if (nowUs - e.lastUs <= 2 * windowUs) break;
        entries.delete(k);
      }
    },
  };
}

/** Does payload [off, off+len) contain one of TELNET_FAIL (ASCII case-insensitive)? */
function containsAny(buf: Uint8Array, off: number, len: number): boolean {
  const end = off + len;
  for (let i = off; i < end; i++) {
    const c0 = buf[i]! | 0x20;
    for (let k = 0; k < TELNET_FAIL.length; k++) {
      const pat = TELNET_FAIL[k]!;
      if (pat[0] !== c0 || i + pat.length > end) continue;
      let j = 1;
      while (j < pat.length) {
        const b = buf[i + j]!;
        const lc = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
        if (lc !== pat[j]) break;
        j++;
      }
      if (j === pat.length) return true;
    }
  }
  return false;
}
