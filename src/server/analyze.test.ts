import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LINKTYPE } from '../capture/batch.js';
import { FEATURE_NAMES } from '../flow/features.js';
import { MAX_BULK_PACKETS, bulkFrames, packetSummaries, vectorOf } from './analyze.js';
import { ApiError } from './errors.js';
import { framesFromFields } from './inject.js';

const is400 = (re: RegExp) => (e: unknown) => e instanceof ApiError && e.statusCode === 400 && re.test(e.message);

test('vectorOf: names (and CIC spellings) to FEATURE_NAMES order; unknown, missing, twice and short arrays are 400', () => {
  const { vector, given } = vectorOf({ 'Flow Duration': 7, ' Destination Port': 443 }, ['Flow Duration']);
  assert.equal(vector[FEATURE_NAMES.indexOf('Flow Duration')], 7);
  assert.equal(vector[FEATURE_NAMES.indexOf('Dst Port')], 443);
  assert.deepEqual([...given].sort(), ['Dst Port', 'Flow Duration']);
  assert.throws(() => vectorOf({ Bogus: 1 }, []), is400(/unknown features: Bogus/));
  assert.throws(
    () => vectorOf({ 'Flow Duration': 1 }, ['Flow Duration', 'Protocol']),
    is400(/missing .*Protocol \(1 of 2\)/),
  );
  assert.throws(() => vectorOf({ 'Dst Port': 1, 'Destination Port': 2 }, []), is400(/given twice/));
  assert.throws(() => vectorOf([1, 2], []), is400(/must hold 87 numbers/));
  const arr = FEATURE_NAMES.map((_, i) => i);
  assert.equal(
    vectorOf(arr, ['Protocol']).vector[FEATURE_NAMES.indexOf('Protocol')],
    FEATURE_NAMES.indexOf('Protocol'),
  );
});

test('bulkFrames: packets or sessions, bounded', () => {
  const f = framesFromFields({ src_ip: '192.0.2.1', dst_ip: '192.0.2.2', protocol: 'udp' })[0]!.toString('hex');
  assert.equal(bulkFrames({ packets: [f, f] }).frames.length, 2);
  const s = bulkFrames({ sessions: [{ src_ip: '192.0.2.1', dst_ip: '192.0.2.2', protocol: 'tcp', payload: 'x' }] });
  assert.equal(s.frames.length, 8);
  assert.equal(s.midstream, false);
  assert.throws(() => bulkFrames({}), is400(/exactly one of packets or sessions/));
  assert.throws(
    () => bulkFrames({ packets: Array<string>(MAX_BULK_PACKETS + 1).fill(f) }),
    is400(/at most 1000 packets/),
  );
  assert.throws(
    () => bulkFrames({ sessions: [{ src_ip: '192.0.2.1', dst_ip: 'nope', protocol: 'udp' }] }),
    is400(/sessions\[0\]: dst_ip/),
  );
  assert.throws(
    () => bulkFrames({ sessions: [{ src_ip: '192.0.2.1', dst_ip: '192.0.2.2', protocol: 'udp' }], link: 'raw' }),
    is400(/packets only/),
  );
});

test('packetSummaries: IPv6 UDP decoded; a truncated frame reports its decoder event', () => {
  const [u] = framesFromFields({
    src_ip: '2001:db8::1',
    dst_ip: '2001:db8::2',
    protocol: 'udp',
    dst_port: 53,
    payload_hex: 'abcd',
  });
  const [p, cut] = packetSummaries(
    { frames: [u!, u!.subarray(0, 20)], linkType: LINKTYPE.ETHERNET, midstream: true },
    1_700_000_000_000_000,
  );
  assert.deepEqual(
    [p!.ip_version, p!.src_ip, p!.dst_ip, p!.protocol, p!.dst_port, p!.payload_length],
    [6, '2001:db8::1', '2001:db8::2', 'UDP', 53, 2],
  );
  assert.deepEqual(p!.decoder_events, {});
  assert.equal(cut!.ip_version, null);
  assert.ok(Object.keys(cut!.decoder_events).length > 0);
});
