/**
 * Loading a model directory for scoring: `DIR/model.json` is read, checked (checkModelFile) and
 * turned into a ScoringModel by the scorer registered for its type (scorers.ts). Every refusal is
 * a ModelError whose message names the file and the reason, so a caller can keep its current model
 * and report why the new one was not taken.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FEATURE_NAMES } from '../../flow/features.js';
import { ModelError, checkModelFile } from './model.js';
import type { ModelFile, ScoringModel } from './model.js';
import { SCORERS } from './scorers.js';
import type { LoadedModel } from './stage.js';

/** The model file inside a model directory. */
export const MODEL_FILE = 'model.json';

export interface LoadModelOptions {
  /**
   * Require every feature to be one the flow engine computes (FEATURE_NAMES), as scoring live
   * flows does; off for models that score CSV data only (e.g. NSL-KDD features).
   */
  liveFeatures?: boolean;
}

/** Check a parsed model file beyond the common fields and build its scorer. */
export function scoringModelFromFile(file: ModelFile, opts: LoadModelOptions = {}, where = 'model'): ScoringModel {
  const factory = SCORERS[file.type];
  if (factory === undefined) {
    const known = Object.keys(SCORERS).sort().join(', ') || 'none';
    throw new ModelError(
      `${where}: model type "${String(file.type)}" is not supported by this build (supported: ${known})`,
    );
  }
  const supervised = file.type !== 'isolation_forest';
  if (supervised && file.classes.length === 0)
    throw new ModelError(`${where}: a ${file.type} model needs its class list`);
  if (file.benignClass !== null && file.benignClass !== undefined && !file.classes.includes(file.benignClass))
    throw new ModelError(`${where}: benign class "${file.benignClass}" is not one of the model's classes`);
  if (new Set(file.features).size !== file.features.length)
    throw new ModelError(`${where}: a feature name appears twice in the feature list`);
  if (opts.liveFeatures === true) {
    const live = new Set(FEATURE_NAMES);
    const missing = file.features.filter((f) => !live.has(f));
    if (missing.length > 0)
      throw new ModelError(
        `${where}: features the flow engine does not compute: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`,
      );
  }
  let model: ScoringModel;
  try {
    model = factory(file);
  } catch (e) {
    if (e instanceof ModelError) throw new ModelError(`${where}: ${e.message}`);
    throw new ModelError(`${where}: cannot build the ${file.type} model: ${(e as Error).message}`);
  }
  if (model.features.length !== file.features.length || model.features.some((f, i) => f !== file.features[i]))
    throw new ModelError(`${where}: the ${file.type} scorer's features do not match the file's feature list`);
  if (supervised && model.predictProba === undefined && model.predictProbaAsync === undefined)
    throw new ModelError(`${where}: the ${file.type} scorer gives no class probabilities`);
  if (!supervised && model.score === undefined) throw new ModelError(`${where}: the anomaly scorer gives no score`);
  return model;
}

/**
 * Read `dir/model.json` and build its scorer. Throws ModelError on a missing or unreadable file,
 * invalid JSON, a file that is not a Vigil model or has another format version, an unknown model
 * type, parameters the scorer rejects, or a feature mismatch.
 */
export function loadScoringModel(dir: string, opts: LoadModelOptions = {}): LoadedModel {
  const file = path.join(dir, MODEL_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new ModelError(`no model in ${dir}: ${MODEL_FILE} not found`);
    throw new ModelError(`cannot read ${file}: ${err.message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ModelError(`${file} is not valid JSON (${(e as Error).message}); the file is corrupt or truncated`);
  }
  let mf: ModelFile;
  try {
    mf = checkModelFile(doc);
  } catch (e) {
    if (e instanceof ModelError) throw new ModelError(`${file}: ${e.message}`);
    throw e;
  }
  return { file: mf, model: scoringModelFromFile(mf, opts, file) };
}
