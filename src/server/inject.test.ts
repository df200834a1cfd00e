import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LINKTYPE } from '../capture/batch.js';
import { ApiError } from './errors.js';
import { framesFromFields, framesOf, runInjection } from './inject.js';

const SQLI = "GET /item?id=1'%20UNION%20SELECT%20user,pass%20FROM%20users-- HTTP/1.1\r\nHost: a\r\n\r\n";

/** RFC 1071 sum over a range; 0xffff when the stored checksum is right. */
function sum(b: Buffer, start: number, end: number, initial = 0): number {
  let s = initial;
  for (let i = start; i + 1 < end; i += 2) s += b.readUInt16BE(i);
  if ((end - start) % 2 === 1) s += b[end - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

test('fields: a TCP payload becomes a whole session with valid IPv4 and TCP checksums', () => {
  const f = framesFromFields({ src_ip: '192.0.2.1', dst_ip: '10.0.0.1', protocol: 'tcp', payload: 'hello' });
  // SYN, SYN-ACK, ACK, data, ACK, FIN, FIN, ACK
  assert.equal(f.length, 8);
  const data = f[3]!;
  assert.equal(data.readUInt16BE(12), 0x0800); // EtherType IPv4
  assert.equal(sum(data, 14, 34), 0xffff, 'IPv4 header checksum');
  const segLen = data.length - 34;
  let pseudo = 0;
  for (let i = 26; i < 34; i += 2) pseudo += data.readUInt16BE(i);
  pseudo += 6 + segLen;
  assert.equal(sum(data, 34, data.length, pseudo), 0xffff, 'TCP checksum');
  assert.equal(data[47], 0x18); // PSH ACK
  assert.equal(data.subarray(54).toString(), 'hello');
});

test('fields: IPv6 UDP and ICMP frames; bad addresses are a 400', () => {
  const [u] = framesFromFields({ src_ip: '2001:db8::1', dst_ip: '2001:db8::2', protocol: 'udp', payload_hex: '0102' });
  assert.equal(u!.readUInt16BE(12), 0x86dd);
  assert.equal(u![14 + 6], 17);
  assert.equal(u!.readUInt16BE(14 + 40 + 4), 10); // UDP length: header + 2
  const [i] = framesFromFields({ src_ip: '192.0.2.1', dst_ip: '192.0.2.2', protocol: 'icmp' });
  assert.equal(i![23], 1);
  for (const bad of [
    { src_ip: '1.2.3', dst_ip: '1.2.3.4', protocol: 'udp' as const },
    { src_ip: '1.2.3.4', dst_ip: '::1', protocol: 'udp' as const },
    { src_ip: '1.2.3.4', dst_ip: '1.2.3.5', protocol: 'udp' as const, payload: 'a', payload_hex: '00' },
  ])
    assert.throws(
      () => framesFromFields(bad),
      (e: unknown) => e instanceof ApiError && e.statusCode === 400,
    );
});

test('raw packets: hex (with separators) or base64, Ethernet or bare IP by the first byte', () => {
  const ip = Buffer.from('45000014000000004006000001020304050607', 'hex');
  const a = framesOf({ packet: ip.toString('hex').replace(/(..)/g, '$1:').slice(0, -1) });
  assert.equal(a.linkType, LINKTYPE.RAW);
  assert.deepEqual(a.frames[0], ip);
  const b = framesOf({ packet: Buffer.concat([Buffer.alloc(12), Buffer.from([8, 0]), ip]).toString('base64') });
  assert.equal(b.linkType, LINKTYPE.ETHERNET);
  for (const bad of [
    {},
    { packet: 'abc' },
    { packet: '%%%' },
    { packet: '00', fields: { src_ip: 'x', dst_ip: 'y', protocol: 'tcp' as const } },
  ])
    assert.throws(
      () => framesOf(bad),
      (e: unknown) => e instanceof ApiError && e.statusCode === 400,
    );
});

test('the built-in rules see an SQL injection in an injected session and in a lone raw segment', () => {
  const now = Date.UTC(2026, 10, 27) * 1000;
  const s = runInjection(
    framesOf({ fields: { src_ip: '198.51.100.1', dst_ip: '10.0.0.9', protocol: 'tcp', payload: SQLI } }),
    now,
  );
  assert.equal(s.packets, 8);
  assert.ok(s.alerts.some((a) => a.vigilType === 'sql_injection'));
  const lone = framesFromFields({
    src_ip: '198.51.100.1',
    dst_ip: '10.0.0.9',
    protocol: 'tcp',
    payload: SQLI,
    session: false,
  });
  const r = runInjection(framesOf({ packet: lone[0]!.subarray(14).toString('hex') }), now);
  assert.ok(r.alerts.some((a) => a.vigilType === 'sql_injection'));
  const benign = runInjection(
    framesOf({
      fields: {
        src_ip: '198.51.100.1',
        dst_ip: '10.0.0.9',
        protocol: 'tcp',
        payload: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
      },
    }),
    now,
  );
  assert.deepEqual(benign.alerts, []);
});
