/**
 * Drift of recent traffic against a model's training data, for the model info routes (issue 6:
 * "drift figures ... in the model info"). Recent traffic is the newest unlabeled training samples
 * of the live feature set — the flows PCAP analyses and the live sensor keep — scored by the model
 * and binned on the model's stored drift reference (src/ml/drift.ts): PSI per feature and of the
 * score, with a status (stable < 0.1 <= moderate <= 0.25 < significant).
 *
 * Bounded work: at most DRIFT_ROWS samples, read in pages; results cached per model directory and
 * count of unlabeled samples (one cheap count query per call), so a dashboard polling the model
 * info does not rescore until new traffic arrived.
 */
import path from 'node:path';
import { loadScoringModel } from '../detect/classify/load.js';
import type { LoadedModel } from '../detect/classify/stage.js';
import { FEATURE_NAMES } from '../flow/features.js';
import { DriftMonitor, driftScores, readDriftReference } from '../ml/drift.js';
import type { DriftReport } from '../ml/drift.js';
import { FEATURE_SET_ID } from '../ml/samples.js';
import type { Repository } from '../store/repository.js';

/** Newest samples compared with the reference. */
export const DRIFT_ROWS = 1000;
const PAGE = 250;

export type DriftInfo =
  | (DriftReport & { data: 'recent unlabeled samples'; computed_at: string })
  | { status: 'no_reference' | 'unsupported'; reason: string };

const QUERY = { featureSet: FEATURE_SET_ID, labeled: false } as const;

export class DriftInfoCache {
  /** Model directory -> the unlabeled-sample count it was computed on and the result. */
  private readonly cache = new Map<string, { total: number; info: DriftInfo }>();
  private readonly models = new Map<string, LoadedModel>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Drift of the model in `dir` on the store's recent samples (cached). */
  async of(repo: Repository, dir: string): Promise<DriftInfo> {
    const { total } = await repo.listSamples({ ...QUERY, limit: 1 });
    const hit = this.cache.get(dir);
    if (hit !== undefined && hit.total === total) return hit.info;
    const info = await this.compute(repo, dir, total);
    this.cache.set(dir, { total, info });
    return info;
  }

  private async compute(repo: Repository, dir: string, total: number): Promise<DriftInfo> {
    let lm = this.models.get(dir);
    if (lm === undefined) {
      lm = loadScoringModel(dir, { liveFeatures: true });
      this.models.set(dir, lm);
    }
    const f = lm.file;
    const ref = readDriftReference(f.training?.['drift_reference'], f.features);
    if (ref === null)
      return { status: 'no_reference', reason: `${path.basename(dir)} was trained without a drift reference` };
    const anomaly = f.type === 'isolation_forest';
    if ((anomaly ? lm.model.score : lm.model.predictProba) === undefined)
      return {
        status: 'unsupported',
        reason: `drift needs a synchronous scorer; ${f.type} models score asynchronously`,
      };

    // The newest samples: ids ascend, so page from total - DRIFT_ROWS.
    const q = QUERY;
    const d = f.features.length;
    const col = Int32Array.from(f.features, (name) => FEATURE_NAMES.indexOf(name));
    const x = new Float64Array(Math.min(total, DRIFT_ROWS) * d);
    let n = 0;
    for (let off = Math.max(0, total - DRIFT_ROWS); n * d < x.length; off += PAGE) {
      const { samples } = await repo.listSamples({ ...q, limit: PAGE, offset: off });
      if (samples.length === 0) break;
      for (const s of samples) {
        if (n * d >= x.length) break;
        for (let j = 0; j < d; j++) x[n * d + j] = col[j]! >= 0 ? (s.features[col[j]!] ?? NaN) : NaN;
        n++;
      }
    }
    const mon = new DriftMonitor(ref, f.features);
    if (n > 0) {
      const k = Math.max(1, f.classes.length);
      let scores: Float64Array;
      if (anomaly) {
        const out = new Float64Array(n);
        lm.model.score!(x, n, out);
        scores = driftScores(null, out, n, 1, -1);
      } else {
        const proba = new Float64Array(n * k);
        lm.model.predictProba!(x, n, proba);
        scores = driftScores(proba, null, n, k, f.benignClass === null ? -1 : f.classes.indexOf(f.benignClass));
      }
      for (let r = 0; r < n; r++) mon.add(x, r * d, scores[r]!);
    }
    return { ...mon.report(), data: 'recent unlabeled samples', computed_at: new Date(this.now()).toISOString() };
  }
}
