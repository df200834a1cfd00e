/**
 * The model stage's configuration (EngineConfig.ml) turned into loaded models: `default` is the
 * model shipped in the package (models/default, trained by scripts/train-default-model.sh),
 * `none` is no model, anything else a model directory or its model.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODEL_FILE, loadScoringModel } from './load.js';
import { ModelError } from './model.js';
import type { LoadedModel, ModelStageOptions } from './stage.js';

/** The model stage's part of the engine configuration (EngineConfig.ml). */
export interface MlConfig {
  /** Score flows with the models below (`CLASSIFICATION_ENABLED`; `--no-ml` turns it off). */
  enabled: boolean;
  /** Classifier model directory or model.json; `default` = the shipped model, `none` = no classifier. */
  classifierModel: string;
  /** Minimum predicted-class probability for a classifier alert (`CLASSIFICATION_CONFIDENCE_THRESHOLD`). */
  confidenceThreshold: number;
  /** Anomaly (Isolation Forest) model directory or model.json; `none` (default) = no anomaly detector. */
  anomalyModel: string;
  /** Anomaly score threshold (`ANOMALY_SCORE_THRESHOLD`); null = the model's calibrated threshold. */
  anomalyThreshold: number | null;
  /**
   * Seconds during which further model alerts of one class are folded when they share the source or
   * the destination of an alert already raised (Suricata's `threshold: type limit` by_src/by_dst):
   * a flood of spoofed flows or a sweep gives one alert per attacker and victim, not one per flow.
   */
  limitSeconds: number;
  /** Candidate classifier scored in shadow mode (no alerts, agreement counted); `none` = off. */
  shadowModel: string;
  /**
   * Every signature alert waits for its flow's classifier verdict and is lowered one severity step
   * when the model says benign with at least `secondOpinionConfidence` (rules can opt in one by one
   * with `ml.second_opinion;` instead).
   */
  secondOpinion: boolean;
  secondOpinionConfidence: number;
}

/** The shipped default classifier (package root/models/default). */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../../../models/default', import.meta.url));

/** Model directory for a configured value; null for `none`. */
export function resolveModelDir(spec: string): string | null {
  const s = spec.trim();
  if (s === '' || s === 'none') return null;
  if (s === 'default') return DEFAULT_MODEL_DIR;
  return path.basename(s) === MODEL_FILE ? path.dirname(s) : s;
}

export interface ModelSetup {
  options: ModelStageOptions;
  /** Problems that did not stop the run (the shipped model missing from a partial install). */
  warnings: string[];
}

/**
 * Load the configured models. Returns null when ML is off or no model is configured. Throws
 * ModelError (naming the file and the reason) for a model that is configured but unusable, and
 * for a classifier given as the anomaly model or the other way round.
 */
export function loadModelSetup(ml: MlConfig): ModelSetup | null {
  if (!ml.enabled) return null;
  const warnings: string[] = [];
  const load = (spec: string, role: 'classifier' | 'anomaly'): LoadedModel | null => {
    const dir = resolveModelDir(spec);
    if (dir === null) return null;
    if (spec.trim() === 'default' && !fs.existsSync(path.join(dir, MODEL_FILE))) {
      warnings.push(`the shipped default model is missing (${dir}); the classifier is off`);
      return null;
    }
    const lm = loadScoringModel(dir, { liveFeatures: true });
    const anomaly = lm.file.type === 'isolation_forest';
    if (anomaly !== (role === 'anomaly'))
      throw new ModelError(
        `${path.join(dir, MODEL_FILE)}: a ${lm.file.type} model cannot serve as the ${role === 'anomaly' ? 'anomaly detector' : 'classifier'}`,
      );
    return lm;
  };
  const classifier = load(ml.classifierModel, 'classifier');
  const anomaly = load(ml.anomalyModel, 'anomaly');
  const shadow = load(ml.shadowModel ?? 'none', 'classifier');
  if (classifier === null && anomaly === null && shadow === null)
    return warnings.length > 0 ? { options: empty(ml), warnings } : null;
  return {
    options: {
      classifier,
      anomaly,
      shadow,
      confidenceThreshold: ml.confidenceThreshold,
      anomalyThreshold: ml.anomalyThreshold,
      limitSeconds: ml.limitSeconds,
    },
    warnings,
  };
}

function empty(ml: MlConfig): ModelStageOptions {
  return {
    classifier: null,
    anomaly: null,
    confidenceThreshold: ml.confidenceThreshold,
    anomalyThreshold: ml.anomalyThreshold,
    limitSeconds: ml.limitSeconds,
  };
}
