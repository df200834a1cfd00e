/**
 * The behaviour detectors, one file each: adding one is a new file plus one line here. `defaults`
 * are the detector's thresholds (documented in docs/behavior.md), settable with
 * `--set behavior.<name>.<key>=<number>`; `behavior.<name>.enabled=no` turns one off.
 */
import type { BehaviorFactory } from './types.js';
import { BEACONING_DEFAULTS, BEACONING_NAME, createBeaconing } from './beaconing.js';
import { BRUTE_FORCE_DEFAULTS, BRUTE_FORCE_NAME, createBruteForce } from './brute-force.js';
import { DNS_TUNNEL_DEFAULTS, DNS_TUNNEL_NAME, createDnsTunnel } from './dns-tunnel.js';
import { DOS_DEFAULTS, DOS_NAME, createDos } from './dos.js';
import { EXFILTRATION_DEFAULTS, EXFILTRATION_NAME, createExfiltration } from './exfiltration.js';
import { PORTSCAN_DEFAULTS, PORTSCAN_NAME, createPortScan } from './port-scan.js';

export interface BehaviorEntry {
  name: string;
  defaults: Readonly<Record<string, number>>;
  create: BehaviorFactory;
}

export const BEHAVIOR_DETECTORS: readonly BehaviorEntry[] = [
  // scan and flood detectors
  { name: PORTSCAN_NAME, defaults: PORTSCAN_DEFAULTS, create: createPortScan },
  { name: DOS_NAME, defaults: DOS_DEFAULTS, create: createDos },
  // brute force, exfiltration, DNS tunnelling, beaconing
  { name: BRUTE_FORCE_NAME, defaults: BRUTE_FORCE_DEFAULTS, create: createBruteForce },
  { name: EXFILTRATION_NAME, defaults: EXFILTRATION_DEFAULTS, create: createExfiltration },
  { name: DNS_TUNNEL_NAME, defaults: DNS_TUNNEL_DEFAULTS, create: createDnsTunnel },
  { name: BEACONING_NAME, defaults: BEACONING_DEFAULTS, create: createBeaconing },
];
