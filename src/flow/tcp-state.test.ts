import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { TCP_FLAG } from '../decode/batch.js';
import { TCP_STATE, TCP_STATE_NAMES, tcpFlowState, tcpIsReuse, tcpNext } from './tcp-state.js';

const { SYN, ACK, FIN, RST, PSH } = TCP_FLAG;

/** Run (flags, dir) steps from `start`, returning the state names after each. */
function walk(steps: Array<[number, number]>, start: number = TCP_STATE.NONE): string[] {
  let s = start;
  return steps.map(([f, d]) => TCP_STATE_NAMES[(s = tcpNext(s, f, d))]!);
}

test('three-way handshake, then the client closes first', () => {
  assert.deepEqual(
    walk([
      [SYN, 0],
      [SYN | ACK, 1],
      [ACK, 0],
      [PSH | ACK, 0],
      [FIN | ACK, 0], // client FIN: server side in close_wait (Suricata's naming)
      [ACK, 1],
      [FIN | ACK, 1],
      [ACK, 0],
    ]),
    ['syn_sent', 'syn_recv', 'established', 'established', 'close_wait', 'close_wait', 'last_ack', 'closed'],
  );
});

test('the server closes first', () => {
  assert.deepEqual(
    walk(
      [
        [FIN | ACK, 1],
        [ACK, 0],
        [FIN | ACK, 0],
        [ACK, 1],
      ],
      TCP_STATE.ESTABLISHED,
    ),
    ['fin_wait1', 'fin_wait2', 'time_wait', 'closed'],
  );
  assert.deepEqual(
    walk(
      [
        [FIN | ACK, 1],
        [FIN, 0],
        [ACK, 1],
        [ACK, 0],
      ],
      TCP_STATE.ESTABLISHED,
    ),
    ['fin_wait1', 'closing', 'time_wait', 'closed'],
  );
});

test('RST closes from any state; scans and midstream pick-up', () => {
  for (let s = 0; s <= TCP_STATE.CLOSED; s++) assert.equal(tcpNext(s, RST | ACK, 1), TCP_STATE.CLOSED);
  assert.equal(tcpNext(TCP_STATE.NONE, FIN, 0), TCP_STATE.NONE); // FIN scan
  assert.equal(tcpNext(TCP_STATE.NONE, 0, 0), TCP_STATE.NONE); // NULL scan
  assert.equal(tcpNext(TCP_STATE.NONE, ACK | PSH, 0), TCP_STATE.ESTABLISHED); // midstream
  assert.equal(tcpNext(TCP_STATE.NONE, SYN | ACK, 1), TCP_STATE.SYN_RECV);
  assert.equal(tcpNext(TCP_STATE.SYN_SENT, SYN, 0), TCP_STATE.SYN_SENT); // retransmission
});

test('flow state and port reuse', () => {
  assert.equal(tcpFlowState(TCP_STATE.SYN_SENT), 0);
  assert.equal(tcpFlowState(TCP_STATE.ESTABLISHED), 1);
  assert.equal(tcpFlowState(TCP_STATE.CLOSE_WAIT), 1);
  assert.equal(tcpFlowState(TCP_STATE.TIME_WAIT), 2);
  assert.equal(tcpFlowState(TCP_STATE.CLOSED), 2);
  assert.equal(tcpIsReuse(TCP_STATE.CLOSED, SYN), true);
  assert.equal(tcpIsReuse(TCP_STATE.FIN_WAIT2, SYN), true);
  assert.equal(tcpIsReuse(TCP_STATE.CLOSED, SYN | ACK), false);
  assert.equal(tcpIsReuse(TCP_STATE.ESTABLISHED, SYN), false);
  assert.equal(tcpIsReuse(TCP_STATE.SYN_SENT, SYN), false);
});
