/**
 * DNS message parser (RFC 1035 section 4, RFC 3596 AAAA, RFC 2782 SRV, RFC 6891 EDNS OPT), pure.
 *
 * `parseDnsMessage` decodes one whole message (a UDP payload, or one TCP frame without its length
 * prefix) into header, questions and the three resource-record sections. Every read is bounds
 * checked; malformed input returns a `DnsError` naming what was wrong and where. Nothing throws and
 * nothing loops unboundedly: name decoding follows at most `MAX_POINTER_JUMPS` compression pointers
 * and stops at `MAX_NAME_LENGTH`, so a pointer loop is an error, not a hang.
 *
 * `probeDns` recognises DNS by content (any port); `DnsTcpStream` undoes the 2-byte length framing
 * of DNS over TCP (RFC 1035 section 4.2.2, RFC 7766) across arbitrary segment boundaries.
 */

/** Longest name in wire format, length octets and the root octet included (RFC 1035 section 2.3.4). */
export const MAX_NAME_LENGTH = 255;
/** Longest label (RFC 1035 section 2.3.4); the two top bits of a length octet are its type. */
export const MAX_LABEL_LENGTH = 63;
/**
 * Compression pointers followed per name. Real names need one or two; the cap makes a pointer loop
 * (or a long chain of pointers to pointers, which costs time without adding length) an error.
 */
export const MAX_POINTER_JUMPS = 32;
/** Size of the fixed header (RFC 1035 section 4.1.1). */
export const DNS_HEADER_LENGTH = 12;
/** Largest DNS-over-TCP message: the length prefix is 16 bits. */
export const MAX_TCP_MESSAGE = 65535;
/** Questions accepted by `probeDns` in a query; real resolvers send one. */
export const PROBE_MAX_QUESTIONS = 16;

/** Record types decoded into structured rdata (other types keep only their length). */
export const DNS_TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
} as const;

/** Why a message could not be parsed. */
export type DnsErrorCode =
  /** Fewer than 12 bytes. */
  | 'dns.truncated_header'
  /** A question, record or rdata runs past the end of the message. */
  | 'dns.truncated'
  /** More than `MAX_POINTER_JUMPS` compression pointers in one name (a loop). */
  | 'dns.name_pointer_loop'
  /** A compression pointer past the end of the message. */
  | 'dns.bad_pointer'
  /** A name longer than `MAX_NAME_LENGTH`. */
  | 'dns.name_too_long'
  /** A length octet with the reserved top bits 01 or 10 (RFC 6891 section 5 retired 01). */
  | 'dns.bad_label_type'
  /** Rdata that does not fit its type (an A record of 5 bytes, a name running past rdlength). */
  | 'dns.bad_rdata';

/** A parse failure: the code and the offset (from the message start) where it was found. */
export interface DnsError {
  readonly error: DnsErrorCode;
  readonly offset: number;
}

/** Header flags (RFC 1035 section 4.1.1, RFC 4035 section 3.2 for AD and CD). */
export interface DnsFlags {
  /** The raw 16-bit flags word. */
  raw: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  /** The remaining reserved bit (0x0040). */
  z: boolean;
  ad: boolean;
  cd: boolean;
  /** The 4-bit header RCODE (the EDNS extended bits are in the OPT record's TTL). */
  rcode: number;
}

/** One question. Names are latin1 (one char per byte), labels joined by '.', the root is ''. */
export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
  /** Labels in the name (0 for the root). */
  labelCount: number;
  /** Length of the longest label, in bytes. */
  longestLabel: number;
}

/** One EDNS option (RFC 6891 section 6.1.2). */
export interface DnsOption {
  code: number;
  data: Uint8Array;
}

/** Decoded rdata; `raw` for types not decoded (and OPT-less oddities), with the length only. */
export type DnsRdata =
  | { kind: 'address'; address: string; bytes: Uint8Array }
  | { kind: 'name'; name: string }
  | { kind: 'mx'; preference: number; exchange: string }
  | { kind: 'txt'; strings: string[] }
  | {
      kind: 'soa';
      mname: string;
      rname: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    }
  | { kind: 'srv'; priority: number; weight: number; port: number; target: string }
  | { kind: 'opt'; options: DnsOption[] }
  | { kind: 'raw'; length: number };

/** One resource record. For OPT, `class` is the UDP payload size and `ttl` the extended flags. */
export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  /** Unsigned 32-bit TTL. */
  ttl: number;
  rdlength: number;
  rdata: DnsRdata;
}

/** A parsed message. */
export interface DnsMessage {
  id: number;
  flags: DnsFlags;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  /** Bytes the message used (trailing bytes after the last record are ignored). */
  length: number;
}

/** True when `r` is a parse failure. */
export function isDnsError(r: DnsMessage | DnsError): r is DnsError {
  return (r as DnsError).error !== undefined;
}

/** The dotted name being decoded; a name is at most 254 characters. */
const nameScratch = Buffer.alloc(MAX_NAME_LENGTH);

/**
 * Name decoder state, reused across calls (single-threaded, never re-entered): the decoded name and
 * its statistics, the offset just past the name in the record, or an error.
 */
const nameOut = { name: '', next: 0, labels: 0, longest: 0, error: '' as DnsErrorCode | '', errorAt: 0 };

/**
 * Decodes the name at `pos` (relative to the message at `base`, `len` bytes). Fills `nameOut`;
 * returns false on error. Pointers may go anywhere inside the message; the jump cap and the length
 * cap bound the work.
 */
function readName(buf: Uint8Array, base: number, len: number, pos: number): boolean {
  let n = 0; // bytes of the dotted name in `nameScratch`
  let wire = 0; // wire-format length so far, for MAX_NAME_LENGTH
  let labels = 0;
  let longest = 0;
  let jumps = 0;
  let next = -1; // offset after the name in the original position, set at the first pointer
  let p = pos;
  for (;;) {
    if (p >= len) return nameFail('dns.truncated', p);
    const b = buf[base + p]!;
    const kind = b & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= len) return nameFail('dns.truncated', p);
      if (++jumps > MAX_POINTER_JUMPS) return nameFail('dns.name_pointer_loop', p);
      const target = ((b & 0x3f) << 8) | buf[base + p + 1]!;
      if (next < 0) next = p + 2;
      if (target >= len) return nameFail('dns.bad_pointer', p);
      p = target;
      continue;
    }
    if (kind !== 0) return nameFail('dns.bad_label_type', p);
    if (b === 0) {
      if (wire + 1 > MAX_NAME_LENGTH) return nameFail('dns.name_too_long', p);
      // One latin1 string per name (a char per byte, so every byte survives).
      nameOut.name = n === 0 ? '' : nameScratch.toString('latin1', 0, n);
      nameOut.next = next < 0 ? p + 1 : next;
      nameOut.labels = labels;
      nameOut.longest = longest;
      return true;
    }
    wire += b + 1;
    if (wire > MAX_NAME_LENGTH) return nameFail('dns.name_too_long', p);
    if (p + 1 + b > len) return nameFail('dns.truncated', p);
    // wire <= 255 keeps n (labels plus separating dots) below the scratch size.
    if (labels > 0) nameScratch[n++] = 0x2e;
    for (let i = base + p + 1, e = i + b; i < e; i++) nameScratch[n++] = buf[i]!;
    labels++;
    if (b > longest) longest = b;
    p += 1 + b;
  }
}

function nameFail(code: DnsErrorCode, at: number): false {
  nameOut.error = code;
  nameOut.errorAt = at;
  return false;
}

/** latin1 string of `n` bytes at `at` (one char per byte, so every byte survives). */
function latin1(buf: Uint8Array, at: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(buf[at + i]!);
  return s;
}

function u16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

function hex4(buf: Uint8Array, at: number): string {
  return u16(buf, at).toString(16);
}

/** RFC 5952 text form of the 16 bytes at `at`: lowercase, the longest run (>= 2) of zero groups as `::`. */
export function formatIpv6(buf: Uint8Array, at: number): string {
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const zero = g < 8 && u16(buf, at + 2 * g) === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
    } else if (runStart >= 0) {
      if (g - runStart > bestLen) {
        bestLen = g - runStart;
        bestStart = runStart;
      }
      runStart = -1;
    }
  }
  if (bestLen < 2) bestStart = -1;
  let s = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      s += '::';
      g += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += hex4(buf, at + 2 * g);
  }
  return s;
}

/** Record-decoder error slot (like `nameOut`). */
const rrErr = { code: 'dns.truncated' as DnsErrorCode, at: 0 };

/** Decodes the rdata of a record of `type` at `p` (`rdlen` bytes), or null with `rrErr` set. */
function readRdata(
  buf: Uint8Array,
  base: number,
  len: number,
  type: number,
  p: number,
  rdlen: number,
): DnsRdata | null {
  const end = p + rdlen;
  switch (type) {
    case DNS_TYPE.A:
    case DNS_TYPE.AAAA: {
      const n = type === DNS_TYPE.A ? 4 : 16;
      if (rdlen !== n) return rdFail('dns.bad_rdata', p);
      const bytes = buf.slice(base + p, base + p + n);
      const address = n === 4 ? `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}` : formatIpv6(bytes, 0);
      return { kind: 'address', address, bytes };
    }
    case DNS_TYPE.NS:
    case DNS_TYPE.CNAME:
    case DNS_TYPE.PTR: {
      if (!readNameIn(buf, base, len, p, end)) return null;
      return { kind: 'name', name: nameOut.name };
    }
    case DNS_TYPE.MX: {
      if (rdlen < 3) return rdFail('dns.bad_rdata', p);
      const preference = u16(buf, base + p);
      if (!readNameIn(buf, base, len, p + 2, end)) return null;
      return { kind: 'mx', preference, exchange: nameOut.name };
    }
    case DNS_TYPE.TXT: {
      // One or more <character-string>s (RFC 1035 section 3.3.14), each a length octet and bytes.
      const strings: string[] = [];
      let q = p;
      while (q < end) {
        const n = buf[base + q]!;
        if (q + 1 + n > end) return rdFail('dns.bad_rdata', q);
        strings.push(latin1(buf, base + q + 1, n));
        q += 1 + n;
      }
      return { kind: 'txt', strings };
    }
    case DNS_TYPE.SOA: {
      if (!readNameIn(buf, base, len, p, end)) return null;
      const mname = nameOut.name;
      if (!readNameIn(buf, base, len, nameOut.next, end)) return null;
      const rname = nameOut.name;
      const q = nameOut.next;
      if (q + 20 !== end) return rdFail('dns.bad_rdata', q);
      return {
        kind: 'soa',
        mname,
        rname,
        serial: u32(buf, base + q),
        refresh: u32(buf, base + q + 4),
        retry: u32(buf, base + q + 8),
        expire: u32(buf, base + q + 12),
        minimum: u32(buf, base + q + 16),
      };
    }
    case DNS_TYPE.SRV: {
      if (rdlen < 7) return rdFail('dns.bad_rdata', p);
      const priority = u16(buf, base + p);
      const weight = u16(buf, base + p + 2);
      const port = u16(buf, base + p + 4);
      if (!readNameIn(buf, base, len, p + 6, end)) return null;
      return { kind: 'srv', priority, weight, port, target: nameOut.name };
    }
    case DNS_TYPE.OPT: {
      // {code, length, data}* (RFC 6891 section 6.1.2).
      const options: DnsOption[] = [];
      let q = p;
      while (q < end) {
        if (q + 4 > end) return rdFail('dns.bad_rdata', q);
        const code = u16(buf, base + q);
        const n = u16(buf, base + q + 2);
        if (q + 4 + n > end) return rdFail('dns.bad_rdata', q);
        options.push({ code, data: buf.slice(base + q + 4, base + q + 4 + n) });
        q += 4 + n;
      }
      return { kind: 'opt', options };
    }
    default:
      return { kind: 'raw', length: rdlen };
  }
}

/** `readName`, also requiring the name's in-place bytes to end within the rdata (by `end`). */
function readNameIn(buf: Uint8Array, base: number, len: number, p: number, end: number): boolean {
  if (!readName(buf, base, len, p)) {
    rdFail(nameOut.error === '' ? 'dns.truncated' : nameOut.error, nameOut.errorAt);
    return false;
  }
  if (nameOut.next > end) {
    rdFail('dns.bad_rdata', p);
    return false;
  }
  return true;
}

function rdFail(code: DnsErrorCode, at: number): null {
  rrErr.code = code;
  rrErr.at = at;
  return null;
}

/** Position after the last section read by `readRecords`, or -1 with `rrErr` set. */
function readRecords(buf: Uint8Array, base: number, len: number, p: number, count: number, out: DnsRecord[]): number {
  for (let i = 0; i < count; i++) {
    if (!readName(buf, base, len, p)) {
      rdFail(nameOut.error === '' ? 'dns.truncated' : nameOut.error, nameOut.errorAt);
      return -1;
    }
    const name = nameOut.name;
    p = nameOut.next;
    // TYPE, CLASS, TTL, RDLENGTH (RFC 1035 section 4.1.3).
    if (p + 10 > len) {
      rdFail('dns.truncated', p);
      return -1;
    }
    const type = u16(buf, base + p);
    const cls = u16(buf, base + p + 2);
    const ttl = u32(buf, base + p + 4);
    const rdlength = u16(buf, base + p + 8);
    p += 10;
    if (p + rdlength > len) {
      rdFail('dns.truncated', p);
      return -1;
    }
    const rdata = readRdata(buf, base, len, type, p, rdlength);
    if (rdata === null) return -1;
    out.push({ name, type, class: cls, ttl, rdlength, rdata });
    p += rdlength;
  }
  return p;
}

/**
 * Parses the DNS message in `buf[off, off + len)`. Returns the message, or a `DnsError` for the
 * first malformed part (check with `isDnsError`). Never throws; the work is linear in `len`.
 */
export function parseDnsMessage(buf: Uint8Array, off: number, len: number): DnsMessage | DnsError {
  if (off < 0 || off > buf.length) len = 0;
  else if (len > buf.length - off) len = buf.length - off;
  if (!(len >= DNS_HEADER_LENGTH)) return { error: 'dns.truncated_header', offset: 0 };
  const f = u16(buf, off + 2);
  const qdcount = u16(buf, off + 4);
  const ancount = u16(buf, off + 6);
  const nscount = u16(buf, off + 8);
  const arcount = u16(buf, off + 10);
  const msg: DnsMessage = {
    id: u16(buf, off),
    flags: {
      raw: f,
      qr: (f & 0x8000) !== 0,
      opcode: (f >> 11) & 0xf,
      aa: (f & 0x0400) !== 0,
      tc: (f & 0x0200) !== 0,
      rd: (f & 0x0100) !== 0,
      ra: (f & 0x0080) !== 0,
      z: (f & 0x0040) !== 0,
      ad: (f & 0x0020) !== 0,
      cd: (f & 0x0010) !== 0,
      rcode: f & 0xf,
    },
    qdcount,
    ancount,
    nscount,
    arcount,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
    length: 0,
  };
  // Counts that cannot fit (a question takes >= 5 bytes, a record >= 11) fail before any work.
  if (qdcount * 5 + (ancount + nscount + arcount) * 11 > len - DNS_HEADER_LENGTH) {
    return { error: 'dns.truncated', offset: DNS_HEADER_LENGTH };
  }
  let p = DNS_HEADER_LENGTH;
  for (let i = 0; i < qdcount; i++) {
    if (!readName(buf, off, len, p)) {
      return { error: nameOut.error === '' ? 'dns.truncated' : nameOut.error, offset: nameOut.errorAt };
    }
    p = nameOut.next;
    if (p + 4 > len) return { error: 'dns.truncated', offset: p };
    msg.questions.push({
      name: nameOut.name,
      type: u16(buf, off + p),
      class: u16(buf, off + p + 2),
      labelCount: nameOut.labels,
      longestLabel: nameOut.longest,
    });
    p += 4;
  }
  p = readRecords(buf, off, len, p, ancount, msg.answers);
  if (p >= 0) p = readRecords(buf, off, len, p, nscount, msg.authorities);
  if (p >= 0) p = readRecords(buf, off, len, p, arcount, msg.additionals);
  if (p < 0) return { error: rrErr.code, offset: rrErr.at };
  msg.length = p;
  return msg;
}

/**
 * Content-based recognition: does `buf[off, off + len)` start like a DNS message? With `isTcp`, the
 * bytes start with the 2-byte length prefix (which must be at least a header). Checks: opcode 0-5
 * (QUERY, IQUERY, STATUS, unassigned 3, NOTIFY, UPDATE), a query has 1..16 questions and rcode 0, a response
 * at most 16 questions, and the counts fit the bytes present (UDP) or the framed length (TCP). For
 * UDP the first question's name must also decode. Cheap: no allocation beyond that one name.
 */
export function probeDns(buf: Uint8Array, off: number, len: number, isTcp: boolean): boolean {
  if (off < 0 || len < 0 || off + len > buf.length) return false;
  let msgLen = len;
  if (isTcp) {
    if (len < 2 + DNS_HEADER_LENGTH) return false;
    msgLen = u16(buf, off);
    if (msgLen < DNS_HEADER_LENGTH) return false;
    off += 2;
    len -= 2;
  } else if (len < DNS_HEADER_LENGTH) return false;
  const f = u16(buf, off + 2);
  const opcode = (f >> 11) & 0xf;
  if (opcode > 5) return false;
  const qd = u16(buf, off + 4);
  const records = u16(buf, off + 6) + u16(buf, off + 8) + u16(buf, off + 10);
  const qr = (f & 0x8000) !== 0;
  if (qd > PROBE_MAX_QUESTIONS) return false;
  if (!qr && (qd === 0 || (f & 0xf) !== 0)) return false;
  if (qd * 5 + records * 11 > msgLen - DNS_HEADER_LENGTH) return false;
  if (!isTcp && qd > 0) {
    if (!readName(buf, off, len, DNS_HEADER_LENGTH)) return false;
    if (nameOut.next + 4 > len) return false;
  }
  return true;
}

/**
 * DNS over TCP framing: each message is preceded by its 16-bit length (RFC 1035 section 4.2.2).
 * Feed one direction's in-order bytes in any chunking; complete messages come back parsed. Whole
 * frames inside one chunk are parsed in place; only a frame cut by a chunk boundary is copied, into
 * a buffer that grows to at most 2 + 65535 bytes (the largest frame), so memory is bounded.
 */
export class DnsTcpStream {
  /** Messages parsed so far. */
  messages = 0;
  /** Frames that failed to parse (or had length 0); they are skipped. */
  errors = 0;
  /** Bytes held of the current partial frame (prefix included). */
  private have = 0;
  /** Frame length from the prefix (-1 until both prefix bytes are known). */
  private need = -1;
  private pending: Uint8Array = new Uint8Array(0);

  /** Parses every message completed by `buf[off, off + len)`. */
  feed(buf: Uint8Array, off: number, len: number): DnsMessage[] {
    const out: DnsMessage[] = [];
    if (off < 0 || len <= 0 || off + len > buf.length) return out;
    let p = off;
    const end = off + len;
    while (p < end) {
      if (this.have === 0) {
        // Fast path: whole frames in this chunk are parsed where they lie.
        if (end - p >= 2) {
          const n = u16(buf, p);
          if (end - p >= 2 + n) {
            this.emit(buf, p + 2, n, out);
            p += 2 + n;
            continue;
          }
        }
      }
      // Slow path: accumulate a cut frame.
      if (this.need < 0) {
        this.ensure(2);
        this.pending[this.have++] = buf[p++]!;
        if (this.have === 2) {
          this.need = u16(this.pending, 0);
          this.ensure(2 + this.need);
        }
      } else {
        const take = Math.min(2 + this.need - this.have, end - p);
        this.pending.set(buf.subarray(p, p + take), this.have);
        this.have += take;
        p += take;
      }
      if (this.need >= 0 && this.have === 2 + this.need) {
        this.emit(this.pending, 2, this.need, out);
        this.have = 0;
        this.need = -1;
      }
    }
    return out;
  }

  /** Drops any partial frame (after a gap in the stream). */
  reset(): void {
    this.have = 0;
    this.need = -1;
  }

  private ensure(n: number): void {
    if (this.pending.length >= n) return;
    // Grow geometrically up to the largest frame; `n` never exceeds 2 + MAX_TCP_MESSAGE.
    const size = Math.min(2 + MAX_TCP_MESSAGE, Math.max(n, this.pending.length * 2, 512));
    const next = new Uint8Array(size);
    next.set(this.pending.subarray(0, this.have));
    this.pending = next;
  }

  private emit(buf: Uint8Array, at: number, n: number, out: DnsMessage[]): void {
    const r = parseDnsMessage(buf, at, n);
    if (isDnsError(r)) this.errors++;
    else {
      this.messages++;
      out.push(r);
    }
  }
}

/** Shannon entropy of the characters of `s` in bits per character (0 for ''). */
export function shannonEntropy(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const k of counts.values()) {
    const q = k / n;
    h -= q * Math.log2(q);
  }
  return h;
}
