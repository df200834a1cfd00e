/**
 * The behaviour detectors, one file each: adding one is a new file plus one line here. `defaults`
 * are the detector's thresholds (documented in docs/behavior.md), settable with
 * `--set behavior.<name>.<key>=<number>`; `behavior.<name>.enabled=no` turns one off.
 */
import type { BehaviorFactory } from './types.js';

export interface BehaviorEntry {
  name: string;
  defaults: Readonly<Record<string, number>>;
  create: BehaviorFactory;
}

export const BEHAVIOR_DETECTORS: readonly BehaviorEntry[] = [
  // scan and flood detectors
  // brute force, exfiltration, DNS tunnelling, beaconing
];
