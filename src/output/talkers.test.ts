import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TalkerTable } from './talkers.js';
import type { FlowRecord } from '../flow/table.js';

function flow(src: string, dst: string, pkts: number, bytes: number): FlowRecord {
  return {
    flowId: 1,
    ipVer: 4,
    srcIp: src,
    dstIp: dst,
    srcPort: 1234,
    dstPort: 80,
    proto: 6,
    vlan: [],
    startUs: 0,
    endUs: 1,
    pktsToServer: pkts,
    pktsToClient: 0,
    bytesToServer: bytes,
    bytesToClient: 0,
    state: 'new',
    reason: 'shutdown',
    communityId: '',
    slot: 0,
    alerted: false,
    features: null,
  };
}

test('top talkers rank hosts by bytes sent and received, merged across workers', () => {
  const a = new TalkerTable();
  const b = new TalkerTable();
  a.add(flow('10.0.0.1', '10.0.0.2', 2, 100));
  b.add(flow('10.0.0.3', '10.0.0.2', 1, 500));
  b.add(flow('10.0.0.1', '10.0.0.4', 1, 50));
  a.merge(b.entries());
  assert.deepEqual(a.top(2), [
    { ip: '10.0.0.2', packets: 3, bytes: 600, flows: 2 },
    { ip: '10.0.0.3', packets: 1, bytes: 500, flows: 1 },
  ]);
  assert.deepEqual(
    a.top(10).find((t) => t.ip === '10.0.0.1'),
    { ip: '10.0.0.1', packets: 3, bytes: 150, flows: 2 },
  );
});
