/**
 * Alert events of EVE files, and the golden tests' comparison of prefiltered detection with
 * exhaustive evaluation (`--set detect.exhaustive=yes`) on the same input.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { runCli } from './reference.js';

/** The fields of an EVE alert event that tests compare. */
export interface EveAlert {
  alert: { signature_id: number };
  src_port?: number;
  pcap_cnt?: number;
  direction?: string;
}

/** The alert events of an EVE file, in file order. */
export function eveAlerts(eve: string): EveAlert[] {
  return fs
    .readFileSync(eve, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"event_type":"alert"'))
    .map((l) => JSON.parse(l) as EveAlert);
}

/**
 * `vigil analyze ARGS` writing EVE to `${eveStem}-0.json`, then again with exhaustive evaluation
 * to `${eveStem}-2.json` (each run must exit 0); the alert events of both runs. A third run with
 * the JavaScript prefilter (`VIGIL_WASM_SCAN=0`, to `${eveStem}-js.json`) must raise exactly the
 * alerts of the first, which scans in WebAssembly when the capture is read from a file with one
 * worker.
 */
export async function analyzeBothWays(args: readonly string[], eveStem: string): Promise<[EveAlert[], EveAlert[]]> {
  const out: EveAlert[][] = [];
  for (const extra of [[], ['--set', 'detect.exhaustive=yes']]) {
    const eve = `${eveStem}-${extra.length}.json`;
    const r = await runCli(['analyze', ...args, '--eve', eve, ...extra]);
    assert.equal(r.code, 0, r.stderr);
    out.push(eveAlerts(eve));
  }
  const eve = `${eveStem}-js.json`;
  const r = await runCli(['analyze', ...args, '--eve', eve], { VIGIL_WASM_SCAN: '0' });
  assert.equal(r.code, 0, r.stderr);
  const key = (a: EveAlert): string => `${a.alert.signature_id}@${a.pcap_cnt ?? 0}/${a.direction ?? ''}/${a.src_port}`;
  assert.deepEqual(eveAlerts(eve).map(key), out[0]!.map(key), 'WebAssembly and JavaScript prefilters differ');
  return [out[0]!, out[1]!];
}
