import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER, PFLAG } from './batch.js';
import { QuotedHeader, decodeIcmpQuoted } from './icmp.js';
import {
  V4_DST,
  V4_SRC,
  eth,
  inetChecksum,
  ipv4,
  ipv6,
  run,
  tcp,
  udp,
  v6Pseudo,
  withChecksum,
} from './test-packets.js';

/** ICMP header: type, code, checksum, rest of header (4 bytes), then data. */
function icmp(type: number, code: number, data: number[] = [], rest = [0, 1, 0, 2]): number[] {
  const m = [type, code, 0, 0, ...rest, ...data];
  const ck = inetChecksum(m);
  m[2] = ck >> 8;
  m[3] = ck & 0xff;
  return m;
}

test('icmp: echo request: type/code, no ports, payload after the 8-byte header', () => {
  const { out, events } = run([[...eth(0x0800), ...ipv4(1, icmp(8, 0, [0x61, 0x62]))]], {
    options: { checksumValidation: true },
  });
  assert.deepEqual(events, {});
  assert.ok(out.layers[0]! & LAYER.ICMP);
  assert.equal(out.icmpType[0], 8);
  assert.equal(out.icmpCode[0], 0);
  assert.equal(out.sport[0], 0);
  assert.equal(out.dport[0], 0);
  assert.equal(out.payLen[0], 2);
  assert.equal(out.payOff[0], out.l4Off[0]! + 8);
  assert.equal(out.icmpInnerOff[0], -1);
  assert.equal(out.pflags[0], 0);
});

test('icmp: port unreachable quotes the original header; decodeIcmpQuoted reads it', () => {
  const quoted = ipv4(17, udp(33333, 161, [1, 2, 3, 4]), { src: V4_DST, dst: V4_SRC });
  const { out, batch } = run([[...eth(0x0800), ...ipv4(1, icmp(3, 3, quoted, [0, 0, 0, 0]))]]);
  assert.equal(out.icmpType[0], 3);
  assert.equal(out.icmpCode[0], 3);
  assert.equal(out.icmpInnerOff[0], out.l4Off[0]! + 8);
  const q = new QuotedHeader();
  const buf = out.bytesOf(0, batch.buf);
  assert.ok(decodeIcmpQuoted(buf, out.icmpInnerOff[0]!, out.payLen[0]!, q));
  assert.equal(q.ipVer, 4);
  assert.equal(q.proto, 17);
  assert.equal(q.src[0], 0x0a000002);
  assert.equal(q.dst[0], 0x0a000001);
  assert.equal(q.sport, 33333);
  assert.equal(q.dport, 161);
  assert.equal(decodeIcmpQuoted(buf, 0, 3, q), false);
  assert.equal(q.ipVer, 0);
});

test('icmp: events for short messages, unknown types/codes, bad quoted headers', () => {
  const { out, events } = run(
    [
      ipv4(1, [8, 0, 0]), // 3 bytes
      ipv4(1, icmp(99, 0)), // unknown type
      ipv4(1, icmp(0, 7)), // echo reply with code 7
      ipv4(1, icmp(11, 0, [0x45, 0, 0])), // time exceeded quoting 3 bytes
      ipv4(1, icmp(3, 1, new Array<number>(20).fill(0x65))), // quoted version 6
    ].map((p) => [...eth(0x0800), ...p]),
  );
  assert.ok(out.layers[0]! & LAYER.INVALID);
  assert.equal(out.layers[1]! & LAYER.INVALID, 0);
  assert.ok(out.layers[3]! & LAYER.INVALID);
  assert.equal(out.icmpInnerOff[3], -1);
  assert.deepEqual(events, {
    'decoder.icmpv4.pkt_too_small': 1,
    'decoder.icmpv4.unknown_type': 1,
    'decoder.icmpv4.unknown_code': 1,
    'decoder.icmpv4.ipv4_trunc_pkt': 1,
    'decoder.icmpv4.ipv4_unknown_ver': 1,
  });
});

test('icmpv6: echo, packet too big quoting IPv6/TCP, checksum with pseudo-header', () => {
  const echo = withChecksum([128, 0, 0, 0, 0, 1, 0, 1, 0xaa], 2, v6Pseudo(58, 9));
  const quoted = ipv6(6, tcp(443, 50000));
  const ptb = withChecksum([2, 0, 0, 0, 0, 0, 0x05, 0x00, ...quoted], 2, v6Pseudo(58, 8 + quoted.length));
  const bad = [...echo];
  bad[8] = 0xbb;
  const { out, events, batch } = run(
    [
      [...eth(0x86dd), ...ipv6(58, echo)],
      [...eth(0x86dd), ...ipv6(58, ptb)],
      [...eth(0x86dd), ...ipv6(58, bad)],
    ],
    { options: { checksumValidation: true } },
  );
  assert.ok(out.layers[0]! & LAYER.ICMPV6);
  assert.equal(out.icmpType[0], 128);
  assert.equal(out.payLen[0], 1);
  assert.equal(out.icmpInnerOff[1], out.l4Off[1]! + 8);
  const q = new QuotedHeader();
  assert.ok(decodeIcmpQuoted(batch.buf, out.icmpInnerOff[1]!, out.payLen[1]!, q));
  assert.equal(q.ipVer, 6);
  assert.equal(q.proto, 6);
  assert.equal(q.sport, 443);
  assert.deepEqual([...q.src], [0x20010db8, 0, 0, 1]);
  assert.ok(out.pflags[2]! & PFLAG.BAD_L4_CSUM);
  assert.deepEqual(events, { 'decoder.icmpv6.invalid_checksum': 1 });
});

test('icmpv6: MLD with hop limit != 1, unassigned and experimental types; ICMPv4 in IPv6', () => {
  const { out, events } = run(
    [
      ipv6(58, [130, 0, 0, 0, 0, 0, 0, 0], undefined, 64),
      ipv6(58, [50, 0, 0, 0, 0, 0, 0, 0]),
      ipv6(58, [200, 0, 0, 0, 0, 0, 0, 0]),
      ipv6(1, [8, 0, 0, 0, 0, 0, 0, 0]),
    ].map((p) => [...eth(0x86dd), ...p]),
  );
  assert.ok(out.layers[3]! & LAYER.OTHER_IP);
  assert.deepEqual(events, {
    'decoder.icmpv6.mld_message_with_invalid_hl': 1,
    'decoder.icmpv6.unassigned_type': 1,
    'decoder.icmpv6.experimentation_type': 1,
    'decoder.ipv6.icmpv4': 1,
  });
});
