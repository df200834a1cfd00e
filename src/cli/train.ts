/** `vigil train`: train a model on a labeled CSV dataset or labeled captures (src/ml/train.ts, docs/ml.md). */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { ModelError } from '../detect/classify/model.js';
import { MlError } from '../ml/errors.js';
import { formatMetrics } from '../ml/metrics.js';
import { ModelStore, writeModelDir } from '../ml/store.js';
import { TRAINERS } from '../ml/trainers.js';
import { parseParam, train } from '../ml/train.js';
import type { TrainConfig } from '../ml/train.js';
import { CliError, usageError } from './errors.js';

const DEFAULT_SEED = 42;
const DEFAULT_TEST_SIZE = 0.2;

export const TRAIN_USAGE = `usage: vigil train --data FILE|DIR --model TYPE --out MODEL_DIR [options]

Train a model and measure it on a held-out split. --data is a CSV (CICFlowMeter / CIC-IDS2017,
NSL-KDD, UNSW-NB15 or any CSV with a header and a label column), a directory of CSVs sharing one
layout, or a capture (.pcap/.pcapng) with NAME.truth.json beside it (or a directory of those).
Writes MODEL_DIR/model.json and MODEL_DIR/metrics.json. See docs/ml.md.

  --model TYPE           model type: ${'{types}'}
  --out DIR              model directory to write
  --label-column NAME    label column (case-insensitive; default Label, NSL-KDD category, UNSW-NB15 attack_cat)
  --test-size F          held-out share for the test metrics, 0 to train on every row (default ${DEFAULT_TEST_SIZE})
  --test-data FILE       measure on FILE instead (trains on every row of --data)
  --split KIND           stratified (default) or time (the latest rows are the test set)
  --seed N               seed of the split, oversampling and trainer (default ${DEFAULT_SEED})
  --param NAME=VALUE     trainer parameter (repeatable; docs/ml.md lists each type's)
  --scaler KIND          standard (default), robust or none
  --balance KIND         none (default), weights (class weights 'balanced') or smote
  --select-k K           keep the K features with the highest mutual information with the label
  --exclude-features L   never use these features (comma-separated names, repeatable), e.g. "Dst Port"
  --keep-constant        keep features that are constant in the training rows (dropped by default)
  --categorical KIND     onehot (default) or ordinal encoding of text columns (proto, service, ...)
  --cv K                 also run stratified K-fold cross validation and report it
  --max-rows N           read at most N rows of the data
  --workers N            pipeline workers when reading captures (default: the number of cores)
  --store DIR            also save the run as a new version in the model store DIR
  --activate             with --store: make the new version the active model
  --json                 print the report as one JSON object
`;

/** A progress bar on stderr with the current stage, only when stderr is a terminal. */
export class StageProgress {
  private bar: cliProgress.SingleBar | null = null;
  private stage = '';
  private last = -1;

  static create(): StageProgress | null {
    return process.stderr.isTTY ? new StageProgress() : null;
  }

  update(stage: string, fraction: number): void {
    const pct = Math.max(0, Math.min(100, Math.floor(fraction * 100)));
    if (stage !== this.stage) {
      this.bar?.stop();
      this.bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `${stage.padEnd(8)} [{bar}] {percentage}%`,
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(100, pct);
      this.stage = stage;
      this.last = pct;
      return;
    }
    if (pct !== this.last) {
      this.last = pct;
      this.bar!.update(pct);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

function choice<T extends string>(name: string, v: string | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v))
    throw usageError(`${name} expects ${allowed.join(', ')}; got "${v}"`);
  return v as T;
}

function number(name: string, v: string | undefined, min: number, max: number, int: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n)))
    throw usageError(`${name} expects ${int ? 'an integer' : 'a number'} from ${min} to ${max}, got "${v}"`);
  return n;
}

/** MlError/ModelError -> a one-line CLI error (usage errors exit 2, data/model errors 1). */
export function cliErrorOf(e: unknown): unknown {
  if (e instanceof MlError)
    return e.code === 'VIGIL_ML_OPTIONS_INVALID'
      ? usageError(e.message)
      : new CliError('VIGIL_CLI_INPUT', e.message, 1);
  if (e instanceof ModelError) return new CliError('VIGIL_CLI_INPUT', e.message, 1);
  return e;
}

export async function trainCommand(argv: string[]): Promise<number> {
  const usage = TRAIN_USAGE.replace('{types}', TRAINERS.map((t) => t.type).join(', ') || '(none registered)');
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        data: { type: 'string' },
        model: { type: 'string' },
        out: { type: 'string' },
        'label-column': { type: 'string' },
        'test-size': { type: 'string' },
        'test-data': { type: 'string' },
        split: { type: 'string' },
        seed: { type: 'string' },
        param: { type: 'string', multiple: true },
        scaler: { type: 'string' },
        balance: { type: 'string' },
        'select-k': { type: 'string' },
        'exclude-features': { type: 'string', multiple: true },
        'keep-constant': { type: 'boolean' },
        categorical: { type: 'string' },
        cv: { type: 'string' },
        'max-rows': { type: 'string' },
        workers: { type: 'string' },
        store: { type: 'string' },
        activate: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw usageError(`${(e as Error).message}\n${usage}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (v.data === undefined) throw usageError(`--data is required\n${usage}`);
  if (v.model === undefined) throw usageError(`--model is required\n${usage}`);
  if (v.out === undefined && v.store === undefined) throw usageError(`--out (or --store) is required\n${usage}`);
  if (v.activate && v.store === undefined) throw usageError('--activate needs --store');
  const params: TrainConfig['params'] = {};
  try {
    for (const kv of v.param ?? []) {
      const [k, val] = parseParam(kv);
      params[k] = val;
    }
  } catch (e) {
    throw cliErrorOf(e);
  }
  const cfg: TrainConfig = {
    data: v.data,
    testData: v['test-data'],
    labelColumn: v['label-column'],
    model: v.model as TrainConfig['model'],
    params,
    testSize: number('--test-size', v['test-size'], 0, 0.99, false) ?? DEFAULT_TEST_SIZE,
    split: choice('--split', v.split, ['stratified', 'time'] as const, 'stratified'),
    seed: number('--seed', v.seed, 0, 2 ** 32 - 1, true) ?? DEFAULT_SEED,
    scaler: choice('--scaler', v.scaler, ['standard', 'robust', 'none'] as const, 'standard'),
    balance: choice('--balance', v.balance, ['none', 'weights', 'smote'] as const, 'none'),
    dropConstant: v['keep-constant'] !== true,
    selectK: number('--select-k', v['select-k'], 1, 1e6, true),
    excludeFeatures: (v['exclude-features'] ?? [])
      .flatMap((x) => x.split(','))
      .map((x) => x.trim())
      .filter((x) => x !== ''),
    categorical: choice('--categorical', v.categorical, ['onehot', 'ordinal'] as const, 'onehot'),
    cv: number('--cv', v.cv, 2, 100, true),
    maxRows: number('--max-rows', v['max-rows'], 1, Number.MAX_SAFE_INTEGER, true),
    workers: number('--workers', v.workers, 1, 256, true) ?? Math.max(1, os.availableParallelism()),
  };
  const bar = StageProgress.create();
  if (bar !== null) cfg.onProgress = (stage, f) => bar.update(stage, f);
  let result;
  try {
    result = await train(cfg);
  } catch (e) {
    throw cliErrorOf(e);
  } finally {
    bar?.stop();
  }
  const out: Record<string, unknown> = { ...result.report };
  try {
    if (v.out !== undefined) {
      writeModelDir(v.out, result.file, result.report);
      out['out'] = path.resolve(v.out);
    }
    if (v.store !== undefined) {
      const store = new ModelStore(v.store);
      const m = result.metrics;
      const rec = store.save(result.file, result.report, {
        data: cfg.data,
        rows: (result.report['data'] as { rows: number }).rows,
        classes: result.file.classes,
        metrics:
          m === null
            ? undefined
            : { accuracy: m.accuracy, macro_f1: m.macro_f1, weighted_f1: m.weighted_f1, roc_auc: m.roc_auc },
      });
      out['store'] = { dir: path.resolve(v.store), version: rec.version, active: false };
      if (v.activate) {
        store.activate(rec.version);
        out['store'] = { dir: path.resolve(v.store), version: rec.version, active: true };
      }
    }
  } catch (e) {
    throw cliErrorOf(e);
  }
  if (v.json) {
    process.stdout.write(JSON.stringify(out) + '\n');
    return 0;
  }
  const d = result.report['data'] as { rows: number; format: string; classes: Record<string, number> };
  const s = result.report['split'] as { method: string; train_rows: number; test_rows: number };
  let text = `trained ${result.file.type} on ${d.rows} rows (${d.format}, ${Object.keys(d.classes).length} classes, ${result.file.features.length} features)\n`;
  text += `split: ${s.method}, ${s.train_rows} training rows, ${s.test_rows} test rows; training took ${String(result.report['train_seconds'])} s\n`;
  if (result.cv !== null)
    text += `cross validation (${result.cv.k} folds): macro F1 ${result.cv.macro_f1.mean.toFixed(4)} ± ${result.cv.macro_f1.std.toFixed(4)}, accuracy ${result.cv.accuracy.mean.toFixed(4)} ± ${result.cv.accuracy.std.toFixed(4)}\n`;
  if (result.metrics !== null) {
    text += `scoring: ${String(result.report['score_rows_per_s'])} rows/s\n\n`;
    text += formatMetrics(result.metrics);
  } else text += 'no test rows: nothing measured (--test-size 0)\n';
  if (out['out'] !== undefined) text += `\nmodel written to ${String(out['out'])}\n`;
  if (out['store'] !== undefined) {
    const st = out['store'] as { dir: string; version: string; active: boolean };
    text += `saved as ${st.version} in ${st.dir}${st.active ? ' (active)' : ''}\n`;
  }
  process.stdout.write(text);
  return 0;
}
