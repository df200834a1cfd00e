/**
 * Long fuzz run of the capture readers and the decoders (issue 3: at least 1M iterations each).
 *   npm run bench:fuzz                 # 1,000,000 iterations each, seed 1
 *   FUZZ_ITERATIONS=5000000 FUZZ_SEED=7 npm run bench:fuzz
 * Exits non-zero if any exception escaped.
 */
import { fuzzCaptureReaders } from '../test/fuzz/capture-fuzz.js';
import { fuzzDecoders } from '../test/fuzz/decode-fuzz.js';

const iterations = Number(process.env['FUZZ_ITERATIONS'] ?? 1_000_000);
const seed = Number(process.env['FUZZ_SEED'] ?? 1);
let failed = false;
for (const [name, fn] of [
  ['capture readers', fuzzCaptureReaders],
  ['decoders', fuzzDecoders],
] as const) {
  const t0 = process.hrtime.bigint();
  const r = fn(iterations, seed);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  // Every failure counter either fuzzer reports (readers: hangs, violations; decoders: divergent
  // re-decodes, out-of-bounds offsets).
  const counts = r as unknown as Record<string, number>;
  const bad = ['exceptions', 'hangs', 'violations', 'divergent', 'outOfBounds'].filter(
    (k) => typeof counts[k] === 'number',
  );
  console.log(
    `${name}: ${r.iterations} iterations in ${s.toFixed(1)} s, ${bad.map((k) => `${k} ${counts[k]}`).join(', ')}`,
  );
  if (bad.some((k) => counts[k]! > 0)) failed = true;
}
process.exit(failed ? 1 : 0);
