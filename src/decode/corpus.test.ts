/**
 * Decodes every capture under SHARED_DIR (corpus/ and data/) without an exception or an internal
 * error, and checks the per-protocol packet counts of the corpus against tshark's protocol
 * hierarchy (test/fixtures/decode/corpus-phs.json, made by make-phs.mjs beside it).
 *
 * Counting: a packet counts once per protocol whose LAYER bit it has; tshark's tree is read at the
 * first occurrence of each protocol (tcp quoted inside an ICMP error is not counted). IP fragments
 * agree by construction: with reassembly on (tshark's default) both count a non-final fragment as
 * ip only and the completing fragment as ip + its transport.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PacketBatch } from '../capture/batch.js';
import { openCaptureFile } from '../capture/open.js';
import { FIXTURES_DIR, SHARED_DIR, findFiles } from '../../test/helpers/paths.js';
import { DecodedBatch, LAYER } from './batch.js';
import { Decoder } from './decode.js';
import { EV } from './events.js';

const PROTOS: ReadonlyArray<readonly [string, number]> = [
  ['ipv4', LAYER.IPV4],
  ['ipv6', LAYER.IPV6],
  ['tcp', LAYER.TCP],
  ['udp', LAYER.UDP],
  ['icmp', LAYER.ICMP],
  ['icmpv6', LAYER.ICMPV6],
  ['arp', LAYER.ARP],
  ['vlan', LAYER.VLAN],
];

interface Tally {
  frames: number;
  counts: Record<string, number>;
  decoder: Decoder;
}

function decodeFile(file: string): Tally {
  const reader = openCaptureFile(file);
  const batch = new PacketBatch();
  const out = new DecodedBatch();
  const decoder = new Decoder({ checksumValidation: true });
  const counts: Record<string, number> = {};
  for (const [name] of PROTOS) counts[name] = 0;
  let frames = 0;
  try {
    while (reader.next(batch) > 0) {
      decoder.decode(batch, out);
      assert.equal(out.count, batch.count);
      frames += out.count;
      for (let i = 0; i < out.count; i++) {
        const l = out.layers[i]!;
        for (const [name, bit] of PROTOS) if (l & bit) counts[name]!++;
      }
    }
  } finally {
    reader.close();
  }
  return { frames, counts, decoder };
}

const haveShared = fs.existsSync(path.join(SHARED_DIR, 'corpus'));

test(
  'corpus captures: per-protocol counts match tshark within 0.1 %',
  { skip: !haveShared && 'no shared corpus' },
  () => {
    const expected = JSON.parse(
      fs.readFileSync(path.join(FIXTURES_DIR, 'decode', 'corpus-phs.json'), 'utf8'),
    ) as Record<string, Record<string, number>>;
    const files = Object.keys(expected);
    assert.ok(files.length >= 10, 'fixture lists the corpus');
    for (const f of files) {
      const file = path.join(SHARED_DIR, 'corpus', f);
      if (!fs.existsSync(file)) continue;
      const exp = expected[f]!;
      const got = decodeFile(file);
      assert.equal(got.frames, exp['frames'], `${f}: frames`);
      assert.equal(got.decoder.events[EV.INTERNAL_ERROR], 0, `${f}: internal errors`);
      for (const [name] of PROTOS) {
        const want = exp[name] ?? 0;
        const have = got.counts[name]!;
        const tol = Math.floor(want * 0.001);
        assert.ok(Math.abs(have - want) <= tol, `${f}: ${name} ${have} vs tshark ${want}`);
      }
    }
  },
);

test(
  'every capture under SHARED_DIR decodes without exceptions or internal errors',
  { skip: !haveShared && 'no shared data' },
  () => {
    const files = findFiles(SHARED_DIR, /\.(pcap|pcapng|cap)$/i);
    assert.ok(files.length > 0);
    let decoded = 0;
    for (const file of files) {
      let got: Tally;
      try {
        got = decodeFile(file);
      } catch (e) {
        // A file the capture layer rejects is its concern, not the decoder's.
        if (e instanceof Error && 'code' in e && String((e as { code: unknown }).code).startsWith('VIGIL_CAPTURE'))
          continue;
        throw e;
      }
      assert.equal(got.decoder.events[EV.INTERNAL_ERROR], 0, `${file}: internal errors`);
      decoded++;
    }
    assert.ok(decoded > files.length / 2, `decoded ${decoded} of ${files.length}`);
  },
);
