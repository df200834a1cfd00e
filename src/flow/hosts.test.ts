import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { HostTracker } from './hosts.js';
import { parseIp } from './key.js';

const T0 = 1_700_000_000_000_000;
const S = 1_000_000;

function addr(s: string): Uint32Array {
  const w = new Uint32Array(4);
  parseIp(s, w, 0);
  return w;
}

test('counts distinct ports and hosts per source within a window', () => {
  const h = new HostTracker({ windowS: 60 });
  const a = addr('10.0.0.1');
  const b = addr('10.0.0.2');
  let e = -1;
  for (let p = 1; p <= 300; p++) e = h.observe(4, a, 0, addr(`10.1.0.${p % 10}`), 0, 6, p, T0 + p);
  for (let p = 1; p <= 50; p++) h.observe(4, a, 0, addr('10.1.0.1'), 0, 6, p, T0 + 1000 + p); // repeats
  assert.ok(Math.abs(h.distinctPorts(e) - 300) <= 20, String(h.distinctPorts(e)));
  assert.equal(h.distinctHosts(e), 10);
  const eb = h.observe(4, b, 0, addr('10.1.0.1'), 0, 17, 53, T0);
  assert.notEqual(eb, e);
  assert.equal(h.distinctPorts(eb), 1);
  assert.equal(h.lookup(4, a, 0), e);
  assert.equal(h.lookup(4, addr('10.9.9.9'), 0), -1);
  // Next window: the previous window's count is kept as a floor.
  h.observe(4, a, 0, addr('10.1.0.1'), 0, 6, 1, T0 + 61 * S);
  assert.ok(h.distinctPorts(e) >= 280);
  // Two windows later, it is gone.
  h.observe(4, a, 0, addr('10.1.0.1'), 0, 6, 1, T0 + 200 * S);
  assert.equal(h.distinctPorts(e), 1);
});

test('the table is capped: stale sources are recycled, fresh ones dropped when full', () => {
  const h = new HostTracker({ maxHosts: 16, windowS: 10 });
  const dst = addr('10.1.1.1');
  for (let k = 0; k < 16; k++) assert.ok(h.observe(4, addr(`10.0.0.${k}`), 0, dst, 0, 6, 80, T0) >= 0);
  assert.equal(h.used, 16);
  assert.equal(h.observe(4, addr('10.0.1.1'), 0, dst, 0, 6, 80, T0 + S), -1);
  assert.equal(h.dropped, 1);
  // 30 s later every entry is stale (older than two windows) and can be reused.
  assert.ok(h.observe(4, addr('10.0.1.1'), 0, dst, 0, 6, 80, T0 + 30 * S) >= 0);
  assert.equal(h.recycled, 1);
  assert.equal(h.used, 16);
});

test('IPv6 sources are tracked separately from IPv4 ones with the same first word', () => {
  const h = new HostTracker();
  const v6 = addr('::a00:1');
  const v4 = addr('10.0.0.1');
  const d = addr('10.1.1.1');
  const e6 = h.observe(6, v6, 0, d, 0, 6, 80, T0);
  const e4 = h.observe(4, v4, 0, d, 0, 6, 80, T0);
  assert.notEqual(e6, e4);
});
