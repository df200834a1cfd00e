/**
 * `vigil evaluate --model MODEL_DIR --data FILE`: score a saved model on labeled data through its
 * scorer and print accuracy, per-class precision/recall/F1, macro and weighted F1, ROC-AUC and the
 * confusion matrix (src/ml/metrics.ts, docs/ml.md).
 */
import { DriftMonitor, driftScores, readDriftReference } from '../ml/drift.js';
import type { DriftReport } from '../ml/drift.js';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadScoringModel } from '../detect/classify/load.js';
import { checkEncoding } from '../ml/csv.js';
import type { DataEncoding } from '../ml/csv.js';
import { formatMetrics } from '../ml/metrics.js';
import { columnsFor, takeColumns } from '../ml/preprocess.js';
import { resolveModelDir } from '../ml/store.js';
import { loadData, metricsByType, metricsFor, predictRows } from '../ml/train.js';
import { usageError } from './errors.js';
import { StageProgress, cliErrorOf } from './train.js';

export const EVALUATE_USAGE = `usage: vigil evaluate --model MODEL_DIR --data FILE|DIR [options]

Score the model in MODEL_DIR (a directory with model.json, or a model store: its active model) on
labeled data (a CSV, a directory of CSVs, or captures with truth files, as for vigil train). The
data is encoded as at training time (same columns, categories and Infinity replacement).

  --label-column NAME    label column (default: the one the model was trained with)
  --max-rows N           read at most N rows
  --workers N            pipeline workers when reading captures (default: the number of cores)
  --by-type              compare Vigil alert types instead of class names (the model's classTypes;
                         labels through the same mapping), e.g. a CIC-IDS2017 model on the lab corpus
  --json                 print {"accuracy","macro_f1","weighted_f1","per_class","confusion_matrix",...}
`;

export async function evaluateCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        model: { type: 'string' },
        data: { type: 'string' },
        'label-column': { type: 'string' },
        'max-rows': { type: 'string' },
        workers: { type: 'string' },
        'by-type': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw usageError(`${(e as Error).message}\n${EVALUATE_USAGE}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(EVALUATE_USAGE);
    return 0;
  }
  if (v.model === undefined || v.data === undefined)
    throw usageError(`--model and --data are required\n${EVALUATE_USAGE}`);
  const positive = (name: string, s: string | undefined): number | undefined => {
    if (s === undefined) return undefined;
    if (!/^[1-9]\d*$/.test(s)) throw usageError(`${name} expects an integer >= 1, got "${s}"`);
    return Number(s);
  };
  const maxRows = positive('--max-rows', v['max-rows']);
  const workers = positive('--workers', v.workers) ?? Math.max(1, os.availableParallelism());
  const bar = StageProgress.create();
  try {
    const dir = resolveModelDir(v.model);
    const { file, model } = loadScoringModel(dir);
    let enc: DataEncoding | undefined;
    if (file.training?.['encoding'] !== undefined) {
      enc = checkEncoding(file.training['encoding']);
      // A model trained on captures names flow features; CSV columns map to them by name.
      if (enc.format === 'pcap') enc = undefined;
    }
    const supervised = file.classes.length > 0;
    const loaded = await loadData(v.data, {
      labelColumn: v['label-column'],
      encoding: enc,
      classes: supervised ? file.classes : undefined,
      maxRows,
      workers,
      onProgress: bar ? (d, t) => bar.update('load', t > 0 ? d / t : 1) : undefined,
    });
    let ds = loaded.ds;
    const cols = columnsFor(ds, file.features);
    if (cols.length !== ds.d || cols.some((c, i) => c !== i)) ds = takeColumns(ds, cols);
    const p = await predictRows(model, file, ds.x, ds.n, bar ? (f) => bar.update('score', f) : undefined);
    bar?.stop();
    const benign = supervised ? file.benignClass : loaded.benignClass;
    const m = v['by-type'] === true ? metricsByType(file, ds, p, benign) : metricsFor(file, ds, p, benign);
    // Drift of this data against the training data (models trained before drift references: null).
    const ref = readDriftReference(file.training?.['drift_reference'], file.features);
    let drift: DriftReport | null = null;
    if (ref !== null) {
      const mon = new DriftMonitor(ref, file.features);
      const b = file.benignClass === null ? -1 : file.classes.indexOf(file.benignClass);
      const scores = driftScores(p.proba, p.score, ds.n, file.classes.length, b);
      for (let r = 0; r < ds.n; r++) mon.add(ds.x, r * ds.d, scores[r]!);
      drift = mon.report();
    }
    if (v.json) {
      process.stdout.write(
        JSON.stringify({
          ...m,
          model: { dir, type: file.type, features: file.features.length, classes: file.classes },
          data: { source: v.data, format: loaded.stats.format, rows: ds.n, skipped_rows: loaded.stats.skippedRows },
          score_rows_per_s: p.seconds > 0 ? Math.round(ds.n / p.seconds) : null,
          drift,
        }) + '\n',
      );
    } else {
      process.stdout.write(`${file.type} model ${dir} on ${v.data}: ${ds.n} rows\n\n${formatMetrics(m)}`);
      if (drift !== null)
        process.stdout.write(
          `\ndrift against the training data: ${drift.status} (score PSI ${drift.score_psi}; features: ${drift.features
            .slice(0, 5)
            .map((f) => `${f.feature} ${f.psi}`)
            .join(', ')})\n`,
        );
    }
    return 0;
  } catch (e) {
    throw cliErrorOf(e);
  } finally {
    bar?.stop();
  }
}
