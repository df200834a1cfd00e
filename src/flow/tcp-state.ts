/**
 * A small TCP connection state machine over flags and direction only (no sequence checks; the
 * stream layer validates sequence numbers). State names are Suricata's (`tcp.state` in EVE flow
 * records), and, as in Suricata, they describe the connection from the server's side: a FIN from
 * the client moves ESTABLISHED to close_wait, a FIN from the server to fin_wait1.
 *
 * Direction `dir`: 0 = client to server, 1 = server to client (DecodedBatch.flowDir).
 */
import { TCP_FLAG } from '../decode/batch.js';

export const TCP_STATE = {
  NONE: 0,
  SYN_SENT: 1,
  SYN_RECV: 2,
  ESTABLISHED: 3,
  FIN_WAIT1: 4,
  FIN_WAIT2: 5,
  CLOSING: 6,
  CLOSE_WAIT: 7,
  LAST_ACK: 8,
  TIME_WAIT: 9,
  CLOSED: 10,
} as const;

/** Suricata's names, indexed by TCP_STATE value. */
export const TCP_STATE_NAMES: readonly string[] = [
  'none',
  'syn_sent',
  'syn_recv',
  'established',
  'fin_wait1',
  'fin_wait2',
  'closing',
  'close_wait',
  'last_ack',
  'time_wait',
  'closed',
];

const SYN = TCP_FLAG.SYN;
const ACK = TCP_FLAG.ACK;
const FIN = TCP_FLAG.FIN;
const RST = TCP_FLAG.RST;

/** FIN handling from ESTABLISHED (Suricata: client FIN -> close_wait, server FIN -> fin_wait1). */
function finFromEstablished(flags: number, dir: number): number {
  if ((flags & FIN) === 0) return TCP_STATE.ESTABLISHED;
  return dir === 0 ? TCP_STATE.CLOSE_WAIT : TCP_STATE.FIN_WAIT1;
}

/** Next state after a packet with TCP `flags` in direction `dir`. */
export function tcpNext(state: number, flags: number, dir: number): number {
  if ((flags & RST) !== 0) return TCP_STATE.CLOSED;
  const syn = (flags & SYN) !== 0;
  const ack = (flags & ACK) !== 0;
  const fin = (flags & FIN) !== 0;
  switch (state) {
    case TCP_STATE.NONE:
      if (syn) return ack ? TCP_STATE.SYN_RECV : TCP_STATE.SYN_SENT;
      // Midstream pick-up: an ACK without SYN means the handshake happened before we looked.
      // A bare FIN (FIN/NULL/Xmas scans) leaves the state alone.
      if (ack) return finFromEstablished(flags, dir);
      return state;
    case TCP_STATE.SYN_SENT:
      if (syn) return ack && dir === 1 ? TCP_STATE.SYN_RECV : state;
      if (ack) return finFromEstablished(flags, dir); // SYN-ACK missed (asymmetric capture)
      return state;
    case TCP_STATE.SYN_RECV:
      if (syn) return state;
      if (ack) return finFromEstablished(flags, dir);
      return state;
    case TCP_STATE.ESTABLISHED:
      return finFromEstablished(flags, dir);
    case TCP_STATE.FIN_WAIT1: // server sent FIN
      if (dir === 0 && fin) return ack ? TCP_STATE.TIME_WAIT : TCP_STATE.CLOSING;
      if (dir === 0 && ack) return TCP_STATE.FIN_WAIT2;
      return state;
    case TCP_STATE.FIN_WAIT2:
      if (dir === 0 && fin) return TCP_STATE.TIME_WAIT;
      return state;
    case TCP_STATE.CLOSING:
      return ack ? TCP_STATE.TIME_WAIT : state;
    case TCP_STATE.CLOSE_WAIT: // client sent FIN
      if (dir === 1 && fin) return TCP_STATE.LAST_ACK;
      return state;
    case TCP_STATE.LAST_ACK:
      if (dir === 0 && ack) return TCP_STATE.CLOSED;
      return state;
    case TCP_STATE.TIME_WAIT:
      return ack && !fin ? TCP_STATE.CLOSED : state;
    default:
      return state;
  }
}

/** True when a bare SYN on a flow in `state` starts a new connection on the same tuple (port reuse). */
export function tcpIsReuse(state: number, flags: number): boolean {
  return (flags & (SYN | ACK | RST)) === SYN && state >= TCP_STATE.FIN_WAIT1;
}

/** Flow state (FLOW_STATE) of a TCP flow: closed once both FINs or a RST are seen. */
export function tcpFlowState(state: number): number {
  if (state >= TCP_STATE.TIME_WAIT) return 2;
  if (state >= TCP_STATE.ESTABLISHED) return 1;
  return 0;
}
