/**
 * A live sensor worker for tests: the real entry (src/pipeline/live-worker.ts) plus two hooks the
 * test drives by posting to the worker.
 * - `{ kind: 'test-gate', sab }`: before each batch the engine sets sab[1] = 1 (and notifies) and
 *   waits while sab[0] is 0, so the test holds the worker in the middle of traffic and releases it.
 * - `{ kind: 'test-crash' }`: an uncaught exception on this thread (a crashed worker).
 */
import { parentPort } from 'node:worker_threads';
import type { PacketBatch } from '../../src/capture/batch.js';
import { PacketEngine } from '../../src/pipeline/engine.js';

let gate: Int32Array | null = null;
const process0 = PacketEngine.prototype.process;
PacketEngine.prototype.process = function (this: PacketEngine, b: PacketBatch): void {
  if (gate !== null) {
    Atomics.store(gate, 1, 1);
    Atomics.notify(gate, 1);
    Atomics.wait(gate, 0, 0);
  }
  process0.call(this, b);
};

parentPort?.on('message', (m: { kind: string; sab?: SharedArrayBuffer }) => {
  if (m.kind === 'test-gate' && m.sab !== undefined) gate = new Int32Array(m.sab);
  else if (m.kind === 'test-crash')
    setImmediate(() => {
      throw new Error('injected worker crash');
    });
});

await import('../../src/pipeline/live-worker.js');
