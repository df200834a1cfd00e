/**
 * Decoder + FlowTable + StreamReassembler over a real capture (corpus/sql_injection.pcap): every
 * flow's reassembled bytes must equal the flow's TCP payloads put in sequence order with duplicates
 * dropped (an oracle built independently from the same packets), and the HTTP requests must read
 * as HTTP.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { PacketBatch } from '../capture/batch.js';
import { openCaptureFile } from '../capture/open.js';
import { DecodedBatch, TCP_FLAG } from '../decode/batch.js';
import { Decoder } from '../decode/decode.js';
import { FlowTable } from '../flow/table.js';
import { SHARED_DIR } from '../../test/helpers/paths.js';
import { StreamReassembler } from './reassembly.js';

const FILE = path.join(SHARED_DIR, 'corpus', 'sql_injection.pcap');
/** FlowTable's spare slots (flows ended during a batch keep theirs): maxFlows + this covers every slot. */
const SPARE = 2 * 8192 + 4096;

test('reassembled HTTP flows of sql_injection.pcap equal their in-order payloads', () => {
  const maxFlows = 1024;
  const slotFlow = new Int32Array(maxFlows + SPARE).fill(-1);
  const flowSlot = new Map<number, number>();
  const got = new Map<string, number[]>(); // "flowId/dir" -> delivered bytes
  // Oracle: payload bytes by sequence number, first copy wins (the capture has no retransmissions).
  const segs = new Map<string, Map<number, Buffer>>();
  const synSeen = new Set<string>();

  const stream = new StreamReassembler({ maxFlows: maxFlows + SPARE }, (slot, dir, buf, off, len) => {
    const k = `${slotFlow[slot]}/${dir}`;
    const arr = got.get(k) ?? [];
    for (let j = 0; j < len; j++) arr.push(buf[off + j]!);
    got.set(k, arr);
  });
  const table = new FlowTable({ maxFlows, features: false, communityId: false }, (rec) => {
    const slot = flowSlot.get(rec.flowId);
    if (slot !== undefined) {
      stream.release(slot);
      flowSlot.delete(rec.flowId);
    }
  });
  const reader = openCaptureFile(FILE);
  const pkts = new PacketBatch();
  const dec = new DecodedBatch();
  const decoder = new Decoder({ checksumValidation: false });
  try {
    while (reader.next(pkts) > 0) {
      decoder.decode(pkts, dec);
      table.process(pkts, dec);
      for (let i = 0; i < dec.count; i++) {
        const slot = dec.flowSlot[i]!;
        if (slot < 0 || dec.proto[i] !== 6) continue;
        const id = table.flowIdOf(slot);
        slotFlow[slot] = id;
        flowSlot.set(id, slot);
        const k = `${id}/${dec.flowDir[i]}`;
        if (dec.tcpFlags[i]! & TCP_FLAG.SYN) synSeen.add(k);
        const len = dec.payLen[i]!;
        if (len <= 0 || (dec.tcpFlags[i]! & (TCP_FLAG.SYN | TCP_FLAG.RST)) !== 0) continue;
        const m = segs.get(k) ?? new Map<number, Buffer>();
        const buf = dec.bytesOf(i, pkts.buf);
        if (!m.has(dec.tcpSeq[i]!))
          m.set(dec.tcpSeq[i]!, Buffer.from(buf.subarray(dec.payOff[i]!, dec.payOff[i]! + len)));
        segs.set(k, m);
      }
      stream.process(pkts, dec);
    }
  } finally {
    reader.close();
  }
  table.flush();

  let http = 0;
  let compared = 0;
  for (const [k, m] of segs) {
    const [id] = k.split('/');
    // midstream is off: only flows whose both SYNs were captured are reassembled.
    if (!synSeen.has(`${id}/0`) || !synSeen.has(`${id}/1`)) continue;
    const first = m.keys().next().value ?? 0;
    const rel = (seq: number): number => (seq - first) | 0; // wrap-safe order
    const parts = [...m.entries()].sort((a, b) => rel(a[0]) - rel(b[0])).map((e) => e[1]);
    const want = Buffer.concat(parts);
    const have = Buffer.from(got.get(k) ?? []);
    assert.ok(have.equals(want), `flow ${k}: ${have.length} bytes delivered, ${want.length} expected`);
    compared++;
    const s = have.toString('latin1');
    if (k.endsWith('/0') && s.startsWith('GET ') && s.includes('HTTP/1.1\r\n') && s.includes('\r\nHost: ')) http++;
  }
  assert.ok(compared > 100, `${compared} directions compared`);
  assert.ok(http > 50, `${http} HTTP requests`);
  const ev = stream.eventCounts();
  assert.equal(ev['stream.reassembly_seq_gap'], 0);
  assert.equal(ev['stream.reassembly_overlap_different_data'], 0);
  assert.equal(stream.stats()['reassembly_memuse'], 0);
});
