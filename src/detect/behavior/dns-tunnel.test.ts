import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DnsRecord } from '../../applayer/app-layer.js';
import type { DnsMessage } from '../../applayer/dns/parser.js';
import { parseIp } from '../../flow/key.js';
import { defaultBehaviorConfig } from './config.js';
import { homeMatcher } from './engine.js';
import { DNS_TUNNEL_NAME, createDnsTunnel, entropy, registeredDomain } from './dns-tunnel.js';
import type { BehaviorAlert, BehaviorDetector } from './types.js';

const S = 1_000_000;
const T0 = 1_700_000_000 * S;
const CLIENT = '10.77.0.21';
const RESOLVER = '10.77.0.53';

function setup(params: Record<string, number> = {}): { det: BehaviorDetector; alerts: BehaviorAlert[] } {
  const cfg = defaultBehaviorConfig();
  Object.assign(cfg.params[DNS_TUNNEL_NAME]!, params);
  const alerts: BehaviorAlert[] = [];
  const isHome = homeMatcher({});
  const w = new Uint32Array(4);
  const det = createDnsTunnel({
    cfg,
    shards: 1,
    emit: (a) => alerts.push(a),
    isHome,
    isHomeIp: (ip) => isHome(parseIp(ip, w, 0), w, 0),
  });
  return { det, alerts };
}

function message(name: string, type: number, qr: boolean, rcode = 0): DnsMessage {
  return {
    id: 1,
    flags: { raw: 0, qr, opcode: 0, aa: false, tc: false, rd: true, ra: qr, z: false, ad: false, cd: false, rcode },
    qdcount: 1,
    ancount: 0,
    nscount: 0,
    arcount: 0,
    questions: [{ name, type, class: 1, labelCount: name.split('.').length, longestLabel: 0 }],
    answers: [],
    authorities: [],
    additionals: [],
    length: 0,
  } as unknown as DnsMessage;
}

let txId = 0;
/** A query from `client` to the resolver, and optionally its answer. */
function ask(
  det: BehaviorDetector,
  ts: number,
  name: string,
  opts: { type?: number; rcode?: number; client?: string } = {},
): void {
  const client = opts.client ?? CLIENT;
  const id = ++txId;
  const q: DnsRecord = {
    kind: 'dns',
    slot: 0,
    tsUs: ts,
    flow: { flowId: id, srcIp: client, dstIp: RESOLVER, srcPort: 50000 + (id % 10000), dstPort: 53, proto: 17 },
    txId: 0,
    msg: message(name, opts.type ?? 1, false),
  };
  det.app!(q);
  const r: DnsRecord = {
    ...q,
    tsUs: ts + 1000,
    flow: { ...q.flow, srcIp: RESOLVER, dstIp: client, srcPort: 53, dstPort: q.flow.srcPort },
    msg: message(name, opts.type ?? 1, true, opts.rcode ?? 0),
  };
  det.app!(r);
}

/** Deterministic pseudo-random generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

function randomLabel(r: () => number, alphabet: string, n: number): string {
  let s = '';
  for (let k = 0; k < n; k++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const HEX = '0123456789abcdef';

test('registered domain: last two labels, three under co.uk-style suffixes', () => {
  assert.equal(registeredDomain('0001.abc.def.t.cdn-telemetry.net'), 'cdn-telemetry.net');
  assert.equal(registeredDomain('WWW.BBC.CO.UK.'), 'bbc.co.uk');
  assert.equal(registeredDomain('x.shop.com.au'), 'shop.com.au');
  assert.equal(registeredDomain('a.abc.de'), 'abc.de');
  assert.equal(registeredDomain('example.com'), 'example.com');
  assert.equal(registeredDomain('localhost'), 'localhost');
});

test('entropy: bits per character, dots ignored', () => {
  assert.equal(entropy('aaaa'), 0);
  assert.equal(entropy('ab.ab'), 1);
  assert.ok(Math.abs(entropy('0123456789abcdef') - 4) < 1e-9);
  assert.ok(entropy(randomLabel(rng(1), BASE32, 120)) > 4.5);
});

test('a tunnel of base32 chunks in query names alerts once, client and resolver as the pair', () => {
  const { det, alerts } = setup();
  const r = rng(7);
  for (let k = 0; k < 200; k++) {
    const name = `${String(k).padStart(4, '0')}.${randomLabel(r, BASE32, 60)}.${randomLabel(r, BASE32, 60)}.t.exfil-cdn.net`;
    ask(det, T0 + k * 75_000, name);
  }
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.type, 'data_exfiltration');
  assert.equal(a.sid, 9200411);
  assert.equal(a.srcIp, CLIENT);
  assert.equal(a.dstIp, RESOLVER);
  assert.equal(a.dstPort, 53);
  assert.equal(a.proto, 17);
  assert.deepEqual(a.mitre, ['T1048.003', 'T1071.004']);
  assert.deepEqual(a.evidence['domain'], ['exfil-cdn.net']);
  assert.deepEqual(a.evidence['encoded_subdomains'], [20]);
  assert.deepEqual(a.evidence['max_label_len'], [60]);
  assert.equal(a.tsUs, T0 + 19 * 75_000);
  assert.equal(a.evidence['sample_query']!.length, 2);
});

test('a slower hex tunnel with TXT queries (dnscat-style) alerts within the window', () => {
  const { det, alerts } = setup();
  const r = rng(9);
  for (let k = 0; k < 40; k++)
    ask(det, T0 + k * 10 * S, `${randomLabel(r, HEX, 30)}.${randomLabel(r, HEX, 30)}.c2.example.org`, { type: 16 });
  assert.equal(alerts.length, 1);
  assert.deepEqual(alerts[0]!.evidence['txt_null_queries'], [20]);
});

test('near misses: CDN names, e-mail TXT records, typo NXDOMAINs, ordinary browsing, reverse lookups', () => {
  const { det, alerts } = setup();
  let t = T0;
  const step = (): number => (t += 600_000);
  for (let rep = 0; rep < 10; rep++) {
    ask(det, step(), 'd1a2b3c4e5f6g7.cloudfront.net');
    ask(det, step(), 'd3kx9q0w8z7y6.cloudfront.net', { type: 28 });
    ask(det, step(), 'selector1._domainkey.example.com', { type: 16 });
    ask(det, step(), 'google._domainkey.corp-mail.com', { type: 16 });
    ask(det, step(), '_dmarc.example.com', { type: 16 });
    ask(det, step(), 'example.com', { type: 16 });
    ask(det, step(), '_sip._tcp.example.com', { type: 33 });
    ask(det, step(), 'internal-web-prod-1234567890.us-east-1.elb.amazonaws.com');
  }
  for (const typo of ['exmaple.com', 'gooogle.com', 'stackoverfow.com', 'wikipedai.org'])
    ask(det, step(), typo, { rcode: 3 });
  const sites = ['www', 'static', 'img', 'api', 'cdn', 'mail', 'news', 'login', 'fonts', 'ads'];
  for (const d of ['example.com', 'news.co.uk', 'shop.com.au']) for (const s of sites) ask(det, step(), `${s}.${d}`);
  // A mail server's reverse lookups: many unique names, short labels, .arpa.
  for (let k = 0; k < 300; k++) ask(det, step(), `${k % 250}.${(k * 7) % 250}.113.203.in-addr.arpa`, { type: 12 });
  // Long IPv6 reverse names are skipped too.
  for (let k = 0; k < 50; k++)
    ask(det, step(), `${'0.'.repeat(28)}${(k % 16).toString(16)}.8.b.d.0.1.0.0.2.ip6.arpa`, { type: 12 });
  assert.equal(alerts.length, 0);
});

test('near miss: a few random-looking names of one domain (fewer than min_unique)', () => {
  const { det, alerts } = setup();
  const r = rng(3);
  for (let k = 0; k < 19; k++) ask(det, T0 + k * S, `${randomLabel(r, BASE32, 40)}.tracker.example.net`);
  // The same names again: repeats are not new data.
  const r2 = rng(3);
  for (let k = 0; k < 19; k++) ask(det, T0 + 30 * S + k * S, `${randomLabel(r2, BASE32, 40)}.tracker.example.net`);
  assert.equal(alerts.length, 0);
});

test('names spread wider than the window do not add up', () => {
  const { det, alerts } = setup();
  const r = rng(5);
  for (let k = 0; k < 40; k++) ask(det, T0 + k * 20 * S, `${randomLabel(r, BASE32, 50)}.slow.example.net`);
  assert.equal(alerts.length, 0);
});

test('NXDOMAIN answers are counted as evidence', () => {
  const { det, alerts } = setup();
  const r = rng(11);
  for (let k = 0; k < 25; k++) ask(det, T0 + k * S, `${randomLabel(r, BASE32, 50)}.nx.example.net`, { rcode: 3 });
  assert.equal(alerts.length, 1);
  // The 20th query alerts before its own answer arrives.
  assert.deepEqual(alerts[0]!.evidence['nxdomain'], [19]);
});

test('config override: min_unique, min_sub_len, volume_unique', () => {
  const a = setup({ min_unique: 5 });
  const r = rng(13);
  for (let k = 0; k < 5; k++) ask(a.det, T0 + k * S, `${randomLabel(r, BASE32, 40)}.x.example.net`);
  assert.equal(a.alerts.length, 1);
  const b = setup({ min_sub_len: 100 });
  for (let k = 0; k < 50; k++) ask(b.det, T0 + k * S, `${randomLabel(r, BASE32, 40)}.x.example.net`);
  assert.equal(b.alerts.length, 0);
  // Short-label tunnel caught by volume alone when it is set low.
  const c = setup({ volume_unique: 50 });
  for (let k = 0; k < 60; k++) ask(c.det, T0 + k * S, `${randomLabel(r, HEX, 8)}.v.example.net`);
  assert.equal(c.alerts.length, 1);
  assert.deepEqual(c.alerts[0]!.evidence['encoded_subdomains'], [0]);
});

test('state is bounded: many client/domain keys are evicted oldest first', () => {
  const { det, alerts } = setup();
  for (let k = 0; k < 20000; k++) ask(det, T0 + k * 1000, `www.site${k}.com`);
  const r = rng(17);
  for (let k = 0; k < 25; k++) ask(det, T0 + 30 * S + k * S, `${randomLabel(r, BASE32, 50)}.t.example.net`);
  assert.equal(alerts.length, 1);
});
