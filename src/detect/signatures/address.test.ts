import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddress, parseIpv4, parseIpv6 } from './address.js';
import { parsePorts } from './ports.js';
import { SURICATA_DEFAULT_VARS } from './vars.js';

const A = SURICATA_DEFAULT_VARS.addressGroups;
const P = SURICATA_DEFAULT_VARS.portGroups;

test('IPv4 and IPv6 literals', () => {
  assert.equal(parseIpv4('10.1.2.3'), 0x0a010203);
  assert.equal(parseIpv4('256.1.1.1'), null);
  assert.deepEqual(parseIpv6('::1'), [0, 0, 0, 1]);
  assert.deepEqual(parseIpv6('2001:db8::ff00:42:8329'), [0x20010db8, 0, 0xff00, 0x00428329]);
  assert.deepEqual(parseIpv6('::ffff:1.2.3.4'), [0, 0, 0xffff, 0x01020304]);
  assert.equal(parseIpv6('1::2::3'), null);
  assert.equal(parseIpv6('1:2:3:4:5:6:7:8:9'), null);
});

test('address expressions: any, CIDR, masks, ranges, negation, nested lists', () => {
  assert.deepEqual(parseAddress('any', A), { kind: 'any' });
  assert.deepEqual(parseAddress('10.1.2.3/8', A), { kind: 'ipv4', net: 0x0a000000, prefix: 8 });
  assert.deepEqual(parseAddress('10.1.2.3/255.255.0.0', A), { kind: 'ipv4', net: 0x0a010000, prefix: 16 });
  assert.deepEqual(parseAddress('1.2.3.4', A), { kind: 'ipv4', net: 0x01020304, prefix: 32 });
  assert.deepEqual(parseAddress('0.0.0.0/0', A), { kind: 'ipv4', net: 0, prefix: 0 });
  assert.deepEqual(parseAddress('1.1.1.1-1.1.1.5', A), { kind: 'ipv4-range', lo: 0x01010101, hi: 0x01010105 });
  assert.deepEqual(parseAddress('2001:db8::1/32', A), { kind: 'ipv6', words: [0x20010db8, 0, 0, 0], prefix: 32 });
  assert.deepEqual(parseAddress('[1.2.3.4,![5.6.7.8, 9.9.9.9]]', A), {
    kind: 'list',
    items: [
      { kind: 'ipv4', net: 0x01020304, prefix: 32 },
      {
        kind: 'not',
        expr: {
          kind: 'list',
          items: [
            { kind: 'ipv4', net: 0x05060708, prefix: 32 },
            { kind: 'ipv4', net: 0x09090909, prefix: 32 },
          ],
        },
      },
    ],
  });
});

test('address variables: HOME_NET default is RFC 1918, EXTERNAL_NET its negation', () => {
  const home = parseAddress('$HOME_NET', A);
  assert.deepEqual(home, {
    kind: 'list',
    items: [
      { kind: 'ipv4', net: 0xc0a80000, prefix: 16 },
      { kind: 'ipv4', net: 0x0a000000, prefix: 8 },
      { kind: 'ipv4', net: 0xac100000, prefix: 12 },
    ],
  });
  assert.deepEqual(parseAddress('$EXTERNAL_NET', A), { kind: 'not', expr: home });
  assert.deepEqual(parseAddress('$HTTP_SERVERS', A), home);
});

test('address errors', () => {
  assert.equal(parseAddress('$NOPE', A), 'unknown address variable $NOPE');
  assert.equal(parseAddress('$A', { A: '[1.2.3.4,$B]', B: '$A' }), 'variable cycle: $A -> $B -> $A');
  assert.equal(parseAddress('!any', A), '!any matches nothing');
  assert.equal(parseAddress('[1.2.3.4', A), 'unbalanced brackets in "[1.2.3.4"');
  assert.equal(parseAddress('1.2.3.4/33', A), 'bad IPv4 prefix in "1.2.3.4/33"');
  assert.equal(parseAddress('1.2.3.4/255.0.255.0', A), 'bad IPv4 prefix in "1.2.3.4/255.0.255.0"');
  assert.equal(parseAddress('host.example', A), 'bad address "host.example"');
  assert.equal(parseAddress('[]', A), 'empty address');
});

test('port expressions', () => {
  assert.deepEqual(parsePorts('any', P), { kind: 'any' });
  assert.deepEqual(parsePorts('80', P), { kind: 'range', lo: 80, hi: 80 });
  assert.deepEqual(parsePorts('1024:', P), { kind: 'range', lo: 1024, hi: 65535 });
  assert.deepEqual(parsePorts(':1023', P), { kind: 'range', lo: 0, hi: 1023 });
  assert.deepEqual(parsePorts('100:200', P), { kind: 'range', lo: 100, hi: 200 });
  assert.deepEqual(parsePorts('!$HTTP_PORTS', P), { kind: 'not', expr: { kind: 'range', lo: 80, hi: 80 } });
  assert.deepEqual(parsePorts('$FILE_DATA_PORTS', P), {
    kind: 'list',
    items: [
      { kind: 'range', lo: 80, hi: 80 },
      { kind: 'range', lo: 110, hi: 110 },
      { kind: 'range', lo: 143, hi: 143 },
    ],
  });
  assert.deepEqual(parsePorts('[1,[2,3:4]]', P), {
    kind: 'list',
    items: [
      { kind: 'range', lo: 1, hi: 1 },
      {
        kind: 'list',
        items: [
          { kind: 'range', lo: 2, hi: 2 },
          { kind: 'range', lo: 3, hi: 4 },
        ],
      },
    ],
  });
});

test('port errors', () => {
  assert.equal(parsePorts('65536', P), 'bad port "65536"');
  assert.equal(parsePorts('200:100', P), 'empty port range "200:100"');
  assert.equal(parsePorts(':', P), 'bad port range ":"');
  assert.equal(parsePorts('$X', { X: '$X' }), 'variable cycle: $X -> $X');
  assert.equal(parsePorts('$NOPE', P), 'unknown port variable $NOPE');
  assert.equal(parsePorts('[80,', P), 'unbalanced brackets in "[80,"');
  assert.equal(parsePorts('http', P), 'bad port "http"');
});
