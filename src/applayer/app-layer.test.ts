import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppLayer } from './app-layer.js';
import type { AppRecord } from './app-layer.js';
import type { FlowTable, FlowTuple } from '../flow/table.js';

const TUPLE = { srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 1234, dstPort: 80 } as unknown as FlowTuple;
/** The app layer only asks the flow table for a slot's tuple. */
const FLOWS = { tupleOf: () => TUPLE } as unknown as FlowTable;

function setup(): { app: AppLayer; recs: AppRecord[]; send: (dir: number, text: string) => void } {
  const recs: AppRecord[] = [];
  const app = new AppLayer(
    4,
    FLOWS,
    (r) => recs.push(r),
    () => 1_000_000,
  );
  const send = (dir: number, text: string): void => {
    app.beginPacket();
    const b = Buffer.from(text, 'latin1');
    app.onData(1, dir, b, 0, b.length);
  };
  return { app, recs, send };
}

test('each direction is detected on its own: junk to the server, HTTP response back', () => {
  const { app, recs, send } = setup();
  send(0, '\x16\x99junk that is no protocol at all\r\n');
  assert.equal(app.protoDirOf(1, 0), 'failed');
  assert.equal(app.protoOf(1), ''); // the flow is not failed while the other side may tell
  assert.equal(app.detectDoneNow(1), 1);
  send(1, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\nno');
  assert.equal(app.detectDoneNow(1), 2);
  assert.equal(app.protoDirOf(1, 1), 'http');
  assert.equal(app.protoOf(1), 'http');
  assert.equal(app.release(1, 2_000_000), 'http');
  assert.equal(recs.length, 1);
  const r = recs[0]!;
  assert.ok(r.kind === 'http' && r.tx.status === 400 && r.tx.tsUs === 1_000_000);
});

test('a flow fails once both directions failed; the second side of a known flow is recorded', () => {
  const { app, send } = setup();
  send(0, '\x00\x01\x02 binary nonsense, long enough to decide.....................');
  send(1, '\x00\x01\x02 binary nonsense, long enough to decide.....................');
  assert.equal(app.protoOf(1), 'failed');
  app.release(1, 0);
  // HTTP client talking to an SSH server: the flow stays HTTP, each side keeps what it spoke.
  send(0, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  send(1, 'SSH-2.0-OpenSSH_6.6.1\r\n');
  assert.equal(app.protoOf(1), 'http');
  assert.equal(app.protoDirOf(1, 0), 'http');
  assert.equal(app.protoDirOf(1, 1), 'ssh');
  // Detection concluded on that packet only.
  app.beginPacket();
  assert.equal(app.detectDoneNow(1), 0);
});
