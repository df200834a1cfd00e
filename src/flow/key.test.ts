import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SHARED_DIR } from '../../test/helpers/paths.js';
import { communityId, communityIdFromStrings, flowHash, formatIp, parseIp } from './key.js';
import { synthBatch } from './synth.js';

test('flowHash is symmetric and separates different tuples', () => {
  const { dec } = synthBatch([
    { ts: 1, src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80 }, // 0: a -> b
    { ts: 2, src: '10.0.0.2', dst: '10.0.0.1', sport: 80, dport: 40000 }, // 1: b -> a
    { ts: 3, src: '10.0.0.1', dst: '10.0.0.2', sport: 40001, dport: 80 }, // 2: other client port
    { ts: 4, src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80, proto: 17 }, // 3: UDP
    { ts: 5, src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80, vlan: 7 }, // 4: VLAN 7
    { ts: 6, src: '2001:db8::1', dst: '2001:db8::2', sport: 5353, dport: 53, proto: 17 }, // 5: v6
    { ts: 7, src: '2001:db8::2', dst: '2001:db8::1', sport: 53, dport: 5353, proto: 17 }, // 6: v6 back
    { ts: 8, src: '10.0.0.1', dst: '10.0.0.2', proto: 1, icmpType: 8 }, // 7: echo request
    { ts: 9, src: '10.0.0.2', dst: '10.0.0.1', proto: 1, icmpType: 0 }, // 8: echo reply
    { ts: 10, src: '10.0.0.1', dst: '10.0.0.2', sport: 80, dport: 40000 }, // 9: ports swapped only
  ]);
  assert.equal(flowHash(dec, 0), flowHash(dec, 1));
  assert.equal(flowHash(dec, 5), flowHash(dec, 6));
  assert.equal(flowHash(dec, 7), flowHash(dec, 8));
  const distinct = new Set([0, 2, 3, 4, 5, 9].map((i) => flowHash(dec, i)));
  assert.equal(distinct.size, 6);
  for (let i = 0; i < 10; i++) {
    const h = flowHash(dec, i);
    assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
  }
});

test('flowHash spreads sequential client ports over buckets', () => {
  const list = [];
  for (let p = 0; p < 4096; p++)
    list.push({ ts: 1, src: '192.168.1.10', dst: '10.0.0.1', sport: 1024 + p, dport: 443 });
  const { dec } = synthBatch(list);
  const buckets = new Uint32Array(64);
  for (let i = 0; i < list.length; i++) buckets[flowHash(dec, i) & 63]!++;
  // 64 per bucket expected; a decent mix keeps every bucket within a factor of two.
  for (const b of buckets) assert.ok(b > 32 && b < 128, `bucket ${b}`);
});

interface Vector {
  proto: number;
  saddr: string;
  daddr: string;
  sport: number | null;
  dport: number | null;
  communityid: string;
}

const dir = path.join(SHARED_DIR, 'data', 'community-id');
for (const [file, seed, b64] of [
  ['baseline_deflt.json', 0, true],
  ['baseline_seed1.json', 1, true],
  ['baseline_nob64.json', 0, false],
] as const) {
  test(`Community ID matches every vector of ${file}`, { skip: !fs.existsSync(path.join(dir, file)) }, () => {
    const vectors = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Vector[];
    assert.ok(vectors.length > 20);
    for (const v of vectors) {
      const got = communityIdFromStrings(v.saddr, v.daddr, v.proto, v.sport ?? 0, v.dport ?? 0, seed, b64);
      assert.equal(got, v.communityid, JSON.stringify(v));
    }
  });
}

test('communityId over address words equals the string form', () => {
  const s = new Uint32Array(4);
  const d = new Uint32Array(4);
  parseIp('1.2.3.4', s, 0);
  parseIp('5.6.7.8', d, 0);
  assert.equal(communityId(4, s, 0, d, 0, 6, 1122, 3344), '1:wCb3OG7yAFWelaUydu0D+125CLM=');
  assert.equal(communityId(4, d, 0, s, 0, 6, 3344, 1122), '1:wCb3OG7yAFWelaUydu0D+125CLM=');
});

test('formatIp follows RFC 5952', () => {
  const w = new Uint32Array(4);
  const fmt = (s: string): string => {
    const v = parseIp(s, w, 0);
    return formatIp(v, w, 0);
  };
  assert.equal(fmt('10.0.0.1'), '10.0.0.1');
  assert.equal(fmt('255.255.255.255'), '255.255.255.255');
  assert.equal(fmt('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  assert.equal(fmt('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1'); // longest run
  assert.equal(fmt('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1'); // first of equal runs
  assert.equal(fmt('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1'); // a single 0 is not compressed
  assert.equal(fmt('::'), '::');
  assert.equal(fmt('::1'), '::1');
  assert.equal(fmt('fe80::'), 'fe80::');
  assert.equal(fmt('FE80::ABCD'), 'fe80::abcd');
  assert.equal(fmt('::ffff:192.0.2.1'), '::ffff:192.0.2.1');
});

test('parseIp rejects non-addresses', () => {
  const w = new Uint32Array(4);
  for (const s of ['', '1.2.3', '1.2.3.256', '1::2::3', 'g::1', '1:2:3:4:5:6:7:8:9'])
    assert.equal(parseIp(s, w, 0), 0, s);
});

test('parseIp on IPv4 agrees with a split-and-regex reference on random dotted strings', () => {
  const ref = (s: string): number => {
    const parts = s.split('.');
    if (parts.length !== 4) return -1;
    let v = 0;
    for (const p of parts) {
      if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return -1;
      v = v * 256 + Number(p);
    }
    return v;
  };
  const w = new Uint32Array(4);
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const alphabet = '0123456789....25x ';
  let valid = 0;
  for (let k = 0; k < 20000; k++) {
    let s = '';
    const len = rnd(17);
    for (let i = 0; i < len; i++) s += alphabet[rnd(alphabet.length)];
    // Half the cases: four random parts, so the valid branch is well covered.
    if (k % 2 === 0)
      s = [rnd(300), rnd(300), rnd(300), rnd(1000)].map((x) => (rnd(8) === 0 ? '0' + x : String(x))).join('.');
    const want = ref(s);
    const ver = parseIp(s, w, 0);
    if (want >= 0) {
      valid++;
      assert.equal(ver, 4, s);
      assert.equal(w[0], want >>> 0, s);
    } else assert.notEqual(ver, 4, s);
  }
  assert.ok(valid > 1000, `only ${valid} valid cases`);
});
