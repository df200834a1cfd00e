import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shardHash } from './shard.js';
import { LINKTYPE } from '../capture/batch.js';

/** Ethernet + optional 802.1Q tag + IPv4 header (addresses only matter) + 8 bytes of L4. */
function ethIpv4(src: number[], dst: number[], vlan?: number): Buffer {
  const eth = Buffer.from([
    ...[0, 1, 2, 3, 4, 5], // destination MAC
    ...[6, 7, 8, 9, 10, 11], // source MAC
  ]);
  const tag = vlan === undefined ? Buffer.alloc(0) : Buffer.from([0x81, 0x00, vlan >> 8, vlan & 0xff]);
  const ip = Buffer.from([
    0x45,
    0,
    0,
    28, // version/IHL, TOS, total length
    0,
    0,
    0,
    0, // id, flags/fragment offset
    64,
    17,
    0,
    0, // TTL, protocol UDP, checksum
    ...src, // source address
    ...dst, // destination address
    0,
    53,
    0x30,
    0x39,
    0,
    8,
    0,
    0, // UDP header
  ]);
  return Buffer.concat([eth, tag, Buffer.from([0x08, 0x00]), ip]);
}

test('shardHash is symmetric and sees through VLAN tags', () => {
  const a = ethIpv4([10, 0, 0, 1], [10, 0, 0, 2]);
  const b = ethIpv4([10, 0, 0, 2], [10, 0, 0, 1]);
  const h = shardHash(a, 0, a.length, LINKTYPE.ETHERNET);
  assert.notEqual(h, 0);
  assert.equal(shardHash(b, 0, b.length, LINKTYPE.ETHERNET), h);
  const v = ethIpv4([10, 0, 0, 2], [10, 0, 0, 1], 42);
  assert.equal(shardHash(v, 0, v.length, LINKTYPE.ETHERNET), h);
  const other = ethIpv4([10, 0, 0, 3], [10, 0, 0, 1]);
  assert.notEqual(shardHash(other, 0, other.length, LINKTYPE.ETHERNET), h);
});

test('shardHash returns 0 for truncated or non-IP packets', () => {
  const a = ethIpv4([10, 0, 0, 1], [10, 0, 0, 2]);
  assert.equal(shardHash(a, 0, 20, LINKTYPE.ETHERNET), 0);
  assert.equal(shardHash(Buffer.alloc(60), 0, 60, LINKTYPE.ETHERNET), 0);
  assert.equal(shardHash(a, 0, a.length, 9999), 0);
});
