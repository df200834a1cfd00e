/**
 * Flow records must not depend on where packet batches end (docs/features.md, "Batch boundaries
 * and workers"). The pcap reader ends a batch where its read buffer ends, so the same capture is
 * read here with the default 4 MiB buffer and full batches, and with a 64 KiB buffer and batches
 * of 61 packets (both are constructor options: `openCaptureFile`'s `bufferSize`, the batch and
 * engine capacity), and every field of every flow record, all features included, must be equal.
 * Captures from the shared corpus: dos.pcap has more flow directions sampling payload at once than
 * the entropy pool's first step, port_scan.pcap and mixed.pcap exercise the per-source counts.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BATCH_PACKETS, PacketBatch } from '../../src/capture/batch.js';
import { openCaptureFile } from '../../src/capture/open.js';
import { FEATURE_NAMES } from '../../src/flow/features.js';
import type { FlowRecord } from '../../src/flow/table.js';
import type { FlowBatch } from '../../src/ml/pcap-labels.js';
import { defaultConfig } from '../../src/pipeline/config.js';
import { PacketEngine } from '../../src/pipeline/engine.js';
import { runCapture } from '../../src/pipeline/runner.js';
import type { FlowSink } from '../../src/pipeline/sink.js';
import { SHARED_DIR } from '../helpers/paths.js';

const CAPTURES = ['mixed.pcap', 'port_scan.pcap', 'dos.pcap'].map((f) => path.join(SHARED_DIR, 'corpus', f));
const have = CAPTURES.every((f) => fs.existsSync(f));

/** Every flow record of `file` as JSON (slot left out: it is table-internal), sorted. */
function flowRecords(file: string, bufferSize: number, capacity: number): { records: string[]; batches: number } {
  const cfg = defaultConfig();
  cfg.ml.enabled = false; // the models score exactly these features; their loading is not under test
  const records: string[] = [];
  const sink: FlowSink = {
    flow(rec: FlowRecord): void {
      const { slot: _slot, features, ...rest } = rec;
      // The feature vector is a recycled view: copy it now.
      records.push(JSON.stringify({ ...rest, features: features === null ? null : Array.from(features) }));
    },
    app: () => undefined,
    alert: () => undefined,
    drain: () => null,
    finish: () => null,
  };
  const engine = new PacketEngine(cfg, sink, capacity);
  const reader = openCaptureFile(file, { bufferSize });
  const batch = new PacketBatch(capacity);
  let batches = 0;
  while (reader.next(batch) > 0) {
    engine.process(batch);
    batches++;
  }
  engine.finish();
  assert.equal(reader.error, null);
  return { records: records.sort(), batches };
}

for (const file of CAPTURES) {
  test(
    `${path.basename(file)}: flow records are the same whatever the read buffer and batch size`,
    { skip: !have },
    () => {
      const big = flowRecords(file, 4 * 1024 * 1024, BATCH_PACKETS);
      const small = flowRecords(file, 64 * 1024, 61);
      assert.ok(small.batches > 10 * big.batches, `${small.batches} vs ${big.batches} batches`);
      assert.ok(big.records.length > 100, `${big.records.length} flows`);
      assert.equal(small.records.length, big.records.length);
      for (let k = 0; k < big.records.length; k++) assert.equal(small.records[k], big.records[k]);
    },
  );
}

test('mixed.pcap: with 1 or 2 workers only the per-source counts may differ', { skip: !have }, async () => {
  // Workers are sharded by IP address pair: a source's flows to different hosts can land on
  // different workers, each counting its share (docs/features.md). Every other feature is equal.
  const perFlow = async (workers: number): Promise<Map<string, number[]>> => {
    const cfg = defaultConfig();
    cfg.appLayer = false;
    cfg.ml.enabled = false;
    const out = new Map<string, number[]>();
    const D = FEATURE_NAMES.length;
    await runCapture(openCaptureFile(CAPTURES[0]!), {
      cfg,
      workers,
      maxPackets: 0,
      sink: {
        module: pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/ml/pcap-labels.js'))
          .href,
        options: null,
      },
      onDrain: (data) => {
        const b = data as FlowBatch;
        for (let i = 0; i < b.n; i++) {
          const key = `${b.ips[2 * i]} ${b.ips[2 * i + 1]} ${Array.from(b.meta.subarray(i * 5, i * 5 + 5)).join(' ')}`;
          out.set(key, Array.from(b.x.subarray(i * D, (i + 1) * D)));
        }
      },
    });
    return out;
  };
  const one = await perFlow(1);
  const two = await perFlow(2);
  assert.equal(two.size, one.size);
  const counts = new Set(['Src Distinct Dst Ports', 'Src Distinct Dst Hosts']);
  for (const [key, a] of one) {
    const b = two.get(key);
    assert.ok(b !== undefined, key);
    for (let j = 0; j < a.length; j++) {
      if (!counts.has(FEATURE_NAMES[j]!)) assert.equal(b[j], a[j], `${key}: ${FEATURE_NAMES[j]}`);
    }
  }
});
