import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER, PFLAG, TCP_FLAG } from './batch.js';
import { eth, ipv4, ipv6, run, tcp, v4Pseudo, v6Pseudo, withChecksum } from './test-packets.js';

test('tcp: header fields and options MSS, SACK permitted, timestamps, NOP, window scale', () => {
  const options = [
    2,
    4,
    0x05,
    0xb4, // MSS 1460
    4,
    2, // SACK permitted
    8,
    10,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    2, // timestamps val 1 ecr 2
    1, // NOP
    3,
    3,
    7, // window scale 7
  ];
  const seg = tcp(40000, 443, [], { flags: TCP_FLAG.SYN, seq: 0xdeadbeef, ack: 0, win: 64240, options });
  const { out, events } = run([[...eth(0x0800), ...ipv4(6, seg)]]);
  assert.deepEqual(events, {});
  assert.ok(out.layers[0]! & LAYER.TCP);
  assert.equal(out.sport[0], 40000);
  assert.equal(out.dport[0], 443);
  assert.equal(out.tcpSeq[0], 0xdeadbeef);
  assert.equal(out.tcpFlags[0], TCP_FLAG.SYN);
  assert.equal(out.tcpWin[0], 64240);
  assert.equal(out.l4HdrLen[0], 40);
  assert.equal(out.tcpMss[0], 1460);
  assert.equal(out.tcpWscale[0], 7);
  assert.equal(out.tcpSackOk[0], 1);
  assert.equal(out.tcpTsVal[0], 1);
  assert.equal(out.tcpTsEcr[0], 2);
  assert.equal(out.payLen[0], 0);
});

test('tcp: no options leaves defaults (wscale 255, mss 0); payload bounds', () => {
  const { out } = run([[...eth(0x0800), ...ipv4(6, tcp(1, 2, [1, 2, 3], { flags: 0x18 }))]]);
  assert.equal(out.tcpWscale[0], 255);
  assert.equal(out.tcpMss[0], 0);
  assert.equal(out.payOff[0], out.l4Off[0]! + 20);
  assert.equal(out.payLen[0], 3);
});

test('tcp: too small, data offset < 5, header past the segment, bad option lengths, duplicates', () => {
  const small = ipv4(6, [0, 1, 0, 2, 0, 0]);
  const doff4 = ipv4(6, tcp(1, 2, [], { doff: 4 }));
  const doffBig = ipv4(6, tcp(1, 2, [], { doff: 15 }));
  const badMss = ipv4(6, tcp(1, 2, [], { options: [2, 3, 5, 0] })); // MSS with length 3
  const pastEnd = ipv4(6, tcp(1, 2, [], { options: [1, 1, 8, 10] })); // timestamps running past the header
  const dup = ipv4(6, tcp(1, 2, [], { options: [2, 4, 5, 0xb4, 2, 4, 0, 1] }));
  const { out, events } = run([small, doff4, doffBig, badMss, pastEnd, dup].map((p) => [...eth(0x0800), ...p]));
  for (let i = 0; i < 5; i++) assert.ok(out.layers[i]! & LAYER.INVALID, `packet ${i}`);
  assert.equal(out.tcpMss[5], 1460); // first value kept
  assert.deepEqual(events, {
    'decoder.tcp.pkt_too_small': 1,
    'decoder.tcp.hlen_too_small': 1,
    'decoder.tcp.invalid_optlen': 1,
    'decoder.tcp.opt_invalid_len': 2,
    'decoder.tcp.opt_duplicate': 1,
  });
});

test('tcp: checksum with the IPv4 and IPv6 pseudo-headers, only when enabled', () => {
  const seg4 = withChecksum(tcp(1, 2, [7, 7, 7]), 16, v4Pseudo(6, 23));
  const seg6 = withChecksum(tcp(1, 2, [7, 7, 7]), 16, v6Pseudo(6, 23));
  const bad = [...seg4];
  bad[21] = 0; // corrupt payload
  const pkts = [
    [...eth(0x0800), ...ipv4(6, seg4)],
    [...eth(0x86dd), ...ipv6(6, seg6)],
    [...eth(0x0800), ...ipv4(6, bad)],
  ];
  const on = run(pkts, { options: { checksumValidation: true } });
  assert.equal(on.out.pflags[0], 0);
  assert.equal(on.out.pflags[1], 0);
  assert.ok(on.out.pflags[2]! & PFLAG.BAD_L4_CSUM);
  assert.deepEqual(on.events, { 'decoder.tcp.invalid_checksum': 1 });
  assert.equal(run(pkts).out.pflags[2], 0);
});
