import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { registerTestModels } from '../../test/helpers/centroid-model.js';
import { tempDir } from '../../test/helpers/paths.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../detect/classify/model.js';
import type { ModelFile } from '../detect/classify/model.js';
import { FEATURE_NAMES } from '../flow/features.js';
import { MlError } from './errors.js';
import { HISTORY_FILE, ModelStore, resolveModelDir, writeFileAtomic, writeModelDir } from './store.js';

const restore = registerTestModels('svm', true);
after(restore);

/** Temporary store directories, removed when the file's tests are done. */
const dirs: string[] = [];
const storeDir = (): string => {
  const d = tempDir('vigil-store-');
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const F = [FEATURE_NAMES[0]!, FEATURE_NAMES[1]!];
const model = (c: number): ModelFile => ({
  format: MODEL_FORMAT,
  version: MODEL_FORMAT_VERSION,
  type: 'svm',
  features: F,
  classes: ['BENIGN', 'DoS'],
  benignClass: 'BENIGN',
  params: {
    centroids: [
      [0, 0],
      [c, c],
    ],
    temperature: 1,
  },
});
const anomaly: ModelFile = {
  format: MODEL_FORMAT,
  version: MODEL_FORMAT_VERSION,
  type: 'isolation_forest',
  features: F,
  classes: [],
  benignClass: null,
  params: { mean: [0, 0] },
};

const refused = (fn: () => unknown, re: RegExp): void =>
  assert.throws(fn, (e: unknown) => e instanceof MlError && e.code === 'VIGIL_ML_MODEL_REFUSED' && re.test(e.message));

test('save versions, activate, roll back; history records it all', () => {
  const store = new ModelStore(storeDir());
  const r1 = store.save(model(1), { macro_f1: 0.5 }, { data: 'a.csv', metrics: { macro_f1: 0.5 } });
  const r2 = store.save(model(2), { macro_f1: 0.7 });
  assert.deepEqual([r1.version, r2.version], ['v1', 'v2']);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(store.dir, 'v2', 'metrics.json'), 'utf8')), { macro_f1: 0.7 });
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(store.dir, 'v1', 'model.json'), 'utf8')), model(1));
  assert.equal(store.loadActive(), null);
  store.activate('v1');
  store.activate('v2');
  assert.equal(store.history().active.classifier, 'v2');
  assert.equal(resolveModelDir(store.dir), path.join(store.dir, 'v2'));
  const lm = store.rollback();
  assert.deepEqual(lm.file, model(1));
  const h = store.history();
  assert.equal(h.active.classifier, 'v1');
  assert.deepEqual(h.stacks.classifier, ['v1']);
  assert.deepEqual(
    h.events.map((e) => `${e.action}:${e.version}`),
    ['save:v1', 'save:v2', 'activate:v1', 'activate:v2', 'rollback:v1'],
  );
  assert.equal(h.runs[0]!.data, 'a.csv');
  refused(() => store.rollback(), /no earlier classifier model/);
  // The anomaly role is separate.
  const r3 = store.save(anomaly, {});
  store.activate(r3.version);
  assert.deepEqual(store.history().active, { classifier: 'v1', anomaly: 'v3' });
  // No temporary files or directories are left behind.
  assert.deepEqual(fs.readdirSync(store.dir).sort(), [HISTORY_FILE, 'v1', 'v2', 'v3']);
});

test('a corrupt or incompatible model is refused and the active model stays', () => {
  const store = new ModelStore(storeDir());
  store.activate(store.save(model(1), {}).version);
  const bad = [
    (f: string) => fs.writeFileSync(f, fs.readFileSync(f, 'utf8').slice(0, 30)), // truncated
    (f: string) => fs.writeFileSync(f, JSON.stringify({ ...model(1), version: 2 })), // future format
    (f: string) => fs.writeFileSync(f, JSON.stringify({ ...model(1), type: 'gradient_boosting_v9' })), // unknown type
    (f: string) => fs.writeFileSync(f, JSON.stringify({ ...model(1), params: { centroids: [[1]] } })), // wrong size
    (f: string) => fs.writeFileSync(f, JSON.stringify({ ...model(1), features: ['src_bytes', 'dst_bytes'] })), // not live
  ];
  const reasons = [
    /not valid JSON/,
    /format version 2/,
    /not supported by this build/,
    /cannot build/,
    /does not compute/,
  ];
  bad.forEach((corrupt, i) => {
    const { version } = store.save(model(2), {});
    corrupt(path.join(store.dir, version, 'model.json'));
    refused(() => store.activate(version), reasons[i]!);
    assert.equal(store.history().active.classifier, 'v1');
    assert.deepEqual(store.loadActive()!.file, model(1));
  });
  refused(() => store.activate('v99'), /no model version v99/);
  // Rolling back to a version that no longer loads is refused too.
  store.activate(store.save(model(3), {}).version);
  fs.writeFileSync(path.join(store.dir, 'v1', 'model.json'), '{');
  refused(() => store.rollback(), /model v1 refused/);
  assert.equal(store.history().active.classifier, 'v7');
});

test('corrupt history.json is a clear error; a stale lock is taken over', () => {
  const dir = storeDir();
  const store = new ModelStore(dir);
  store.save(model(1), {});
  fs.writeFileSync(path.join(dir, HISTORY_FILE), '{"format":');
  assert.throws(
    () => store.history(),
    (e: unknown) => e instanceof MlError && e.code === 'VIGIL_ML_STORE_INVALID' && /corrupt/.test(e.message),
  );
  const dir2 = storeDir();
  const s2 = new ModelStore(dir2);
  const lock = path.join(dir2, 'history.lock');
  fs.writeFileSync(lock, '');
  const old = new Date(Date.now() - 3600_000);
  fs.utimesSync(lock, old, old);
  assert.equal(s2.save(model(1), {}).version, 'v1');
  assert.ok(!fs.existsSync(lock));
});

test('writeFileAtomic replaces the whole file; writeModelDir writes model.json and metrics.json', () => {
  const dir = storeDir();
  const f = path.join(dir, 'x.json');
  writeFileAtomic(f, 'one');
  writeFileAtomic(f, 'two');
  assert.equal(fs.readFileSync(f, 'utf8'), 'two');
  assert.deepEqual(fs.readdirSync(dir), ['x.json']);
  writeModelDir(path.join(dir, 'm'), model(1), { a: 1 });
  assert.deepEqual(fs.readdirSync(path.join(dir, 'm')).sort(), ['metrics.json', 'model.json']);
  assert.equal(resolveModelDir(path.join(dir, 'm')), path.join(dir, 'm'));
});
