import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER } from '../batch.js';
import { eth, ipv4, ipv6, run, udp } from '../test-packets.js';

/** NSH base + service path header (+ MD type 1 context) with `next` protocol. */
function nsh(mdType: number, words: number, next: number): number[] {
  const h = [0x00, words & 0x3f, mdType, next, 0, 0, 1, 255];
  while (h.length < words * 4) h.push(0);
  return h;
}

test('nsh: MD type 1 then IPv4, MD type 2 then IPv6, nested NSH', () => {
  const a = [...eth(0x894f), ...nsh(1, 6, 1), ...ipv4(17, udp(1, 2, [1, 2, 3]))];
  const b = [...eth(0x894f), ...nsh(2, 2, 2), ...ipv6(17, udp(3, 4))];
  const c = [...eth(0x894f), ...nsh(2, 2, 4), ...nsh(2, 2, 1), ...ipv4(17, udp(5, 6))];
  const { out } = run([a, b, c]);
  assert.ok(out.layers[0]! & LAYER.UDP);
  assert.equal(out.dport[0], 2);
  assert.equal(out.ipVer[1], 6);
  assert.equal(out.dport[2], 6);
});

test('nsh: bad version, length, reserved type and unknown payload are decoder events', () => {
  const badVer = [...eth(0x894f), 0x40, 6, 1, 1, 0, 0, 1, 255, ...new Array<number>(16).fill(0)];
  const badLen = [...eth(0x894f), ...nsh(1, 2, 1)];
  const reserved = [...eth(0x894f), ...nsh(0, 2, 1)];
  const unknown = [...eth(0x894f), ...nsh(2, 2, 9), 1, 2, 3, 4];
  const short = [...eth(0x894f), 0, 6, 1];
  const { out, events } = run([badVer, badLen, reserved, unknown, short]);
  for (let i = 0; i < 5; i++) assert.ok(out.layers[i]! & LAYER.INVALID, `packet ${i}`);
  assert.equal(events['decoder.nsh.unsupported_version'], 1);
  assert.equal(events['decoder.nsh.bad_header_length'], 1);
  assert.equal(events['decoder.nsh.reserved_type'], 1);
  assert.equal(events['decoder.nsh.unknown_payload'], 1);
  assert.equal(events['decoder.nsh.header_too_small'], 1);
});
