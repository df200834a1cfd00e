import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FEATURE_NAMES } from '../../flow/features.js';
import { loadScoringModel, scoringModelFromFile } from './load.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, ModelError } from './model.js';
import type { ModelFile, ScoringModel } from './model.js';
import { SCORERS } from './scorers.js';

// A test-only scorer under the `mlp` type name: probability of class 1 = first feature.
const saved = SCORERS.mlp;
SCORERS.mlp = (file: ModelFile): ScoringModel => {
  if ((file.params as { bad?: boolean }).bad === true) throw new Error('weights do not fit');
  return {
    type: file.type,
    features: (file.params as { wrongFeatures?: boolean }).wrongFeatures ? ['other'] : file.features,
    classes: file.classes,
    predictProba(x, n, out) {
      for (let r = 0; r < n; r++) {
        out[r * 2 + 1] = x[r * file.features.length]!;
        out[r * 2] = 1 - out[r * 2 + 1]!;
      }
    },
  };
};
after(() => {
  if (saved === undefined) delete SCORERS.mlp;
  else SCORERS.mlp = saved;
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-load-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const good: ModelFile = {
  format: MODEL_FORMAT,
  version: MODEL_FORMAT_VERSION,
  type: 'mlp',
  features: [FEATURE_NAMES[0]!, FEATURE_NAMES[1]!],
  classes: ['BENIGN', 'DDoS'],
  benignClass: 'BENIGN',
  params: {},
};

function modelDir(name: string, content: string | object | null): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  if (content !== null)
    fs.writeFileSync(path.join(d, 'model.json'), typeof content === 'string' ? content : JSON.stringify(content));
  return d;
}

const refused = (d: string, re: RegExp, live = false): void =>
  assert.throws(
    () => loadScoringModel(d, { liveFeatures: live }),
    (e: unknown) => e instanceof ModelError && e.code === 'VIGIL_MODEL_INVALID' && re.test(e.message),
  );

test('loads a valid model and scores through the registered scorer', () => {
  const lm = loadScoringModel(modelDir('ok', good), { liveFeatures: true });
  assert.deepEqual(lm.file, good);
  const out = new Float64Array(2);
  lm.model.predictProba!(Float64Array.from([0.75, 9]), 1, out);
  assert.deepEqual(Array.from(out), [0.25, 0.75]);
});

test('refusals name the file and the reason', () => {
  refused(modelDir('missing', null), /no model in .*model\.json not found/);
  refused(
    modelDir('truncated', JSON.stringify(good).slice(0, 40)),
    /model\.json is not valid JSON .*corrupt or truncated/,
  );
  refused(modelDir('foreign', { ...good, format: 'sklearn' }), /not a Vigil model/);
  refused(modelDir('future', { ...good, version: 99 }), /format version 99 is not supported/);
  refused(
    modelDir('unknown-type', { ...good, type: 'quantum' }),
    /model type "quantum" is not supported by this build/,
  );
  refused(modelDir('no-classes', { ...good, classes: [] }), /needs its class list/);
  refused(modelDir('bad-benign', { ...good, benignClass: 'normal' }), /benign class "normal" is not one of/);
  refused(modelDir('dup', { ...good, features: ['a', 'a'] }), /appears twice/);
  refused(modelDir('scaler', { ...good, scaler: { kind: 'standard', center: [0], scale: [1] } }), /scaler size/);
  refused(modelDir('params', { ...good, params: { bad: true } }), /cannot build the mlp model: weights do not fit/);
  refused(modelDir('mismatch', { ...good, params: { wrongFeatures: true } }), /features do not match/);
  refused(modelDir('offline', { ...good, features: ['src_bytes'] }), /flow engine does not compute: src_bytes/, true);
  // The same file is fine for offline (CSV) scoring.
  assert.ok(loadScoringModel(path.join(dir, 'offline')).model);
});

test('scoringModelFromFile builds from an in-memory file', () => {
  assert.equal(scoringModelFromFile(good).type, 'mlp');
});
