import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelStage, typeForClass } from './stage.js';
import type { LoadedModel } from './stage.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, ModelError } from './model.js';
import type { ModelFile } from './model.js';
import { FEATURE_NAMES } from '../../flow/features.js';
import type { FlowRecord } from '../../flow/table.js';
import type { AlertRecord } from '../engine/detector.js';

const F0 = FEATURE_NAMES[0]!;
const F1 = FEATURE_NAMES[1]!;

function file(over: Partial<ModelFile>): ModelFile {
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: 'logistic_regression',
    features: [F1, F0],
    classes: ['BENIGN', 'DoS Hulk', 'Weird'],
    benignClass: 'BENIGN',
    params: {},
    ...over,
  };
}

/** Test-only models: probabilities and scores are read from the features given. */
const classifier: LoadedModel = {
  file: file({}),
  model: {
    type: 'logistic_regression',
    features: [F1, F0],
    classes: ['BENIGN', 'DoS Hulk', 'Weird'],
    predictProba(x, n, out) {
      for (let r = 0; r < n; r++) {
        const cls = x[r * 2]!; // F1 chooses the class, F0 the confidence
        for (let j = 0; j < 3; j++) out[r * 3 + j] = j === cls ? x[r * 2 + 1]! : (1 - x[r * 2 + 1]!) / 2;
      }
    },
  },
};
const anomaly: LoadedModel = {
  file: file({
    type: 'isolation_forest',
    features: [F0],
    classes: [],
    benignClass: null,
    training: { threshold: 0.7 },
  }),
  model: {
    type: 'isolation_forest',
    features: [F0],
    classes: [],
    score(x, n, out) {
      for (let r = 0; r < n; r++) out[r] = x[r]!;
    },
    ...{ explain: () => [{ feature: F0, weight: 0.9 }] },
  },
};

function flow(id: number, f0: number, f1: number): FlowRecord {
  const features = new Float64Array(FEATURE_NAMES.length);
  features[0] = f0;
  features[1] = f1;
  return {
    flowId: id,
    srcIp: '10.0.0.1',
    dstIp: '10.0.0.2',
    srcPort: 1000 + id,
    dstPort: 80,
    proto: 6,
    endUs: id * 1e6,
    features,
  } as unknown as FlowRecord;
}

test('classifier alerts: malicious class above the confidence threshold, typed by class name', () => {
  const alerts: AlertRecord[] = [];
  const st = new ModelStage({ classifier, anomaly: null, confidenceThreshold: 0.8, anomalyThreshold: null }, (a) =>
    alerts.push(a),
  );
  st.flowEnd(flow(1, 0.95, 1)); // DoS Hulk, 0.95 -> alert
  st.flowEnd(flow(2, 0.7, 1)); // DoS Hulk, 0.7 -> below threshold
  st.flowEnd(flow(3, 0.99, 0)); // BENIGN -> no alert
  st.flowEnd(flow(4, 0.9, 2)); // Weird -> anomaly type
  st.flush();
  assert.equal(st.scored, 4);
  assert.deepEqual(
    alerts.map((a) => [a.flowId, a.metadata.find((m) => m.startsWith('vigil_type'))]),
    [
      [1, 'vigil_type dos'],
      [4, 'vigil_type anomaly'],
    ],
  );
  assert.ok(alerts[0]!.metadata.includes('detector classifier'));
  assert.ok(alerts[0]!.metadata.includes('predicted_class DoS Hulk'));
  assert.ok(alerts[0]!.metadata.includes('confidence 0.9500'));
  // No explain() on this model: occlusion (each feature set to 0, the drop in P(DoS Hulk)).
  assert.ok(alerts[0]!.metadata.includes(`top_features ${F0}:0.950`), alerts[0]!.metadata.join('|'));
  assert.ok(alerts[0]!.metadata.includes(`top_features ${F1}:0.925`));
});

test('anomaly alerts use the calibrated threshold unless one is configured, with explanations', () => {
  const alerts: AlertRecord[] = [];
  const st = new ModelStage({ classifier: null, anomaly, confidenceThreshold: 0.9, anomalyThreshold: null }, (a) =>
    alerts.push(a),
  );
  for (let i = 0; i < 300; i++) st.flowEnd(flow(i, i === 7 ? 0.75 : 0.5, 0)); // crosses a batch boundary
  st.flush();
  assert.deepEqual(
    alerts.map((a) => a.flowId),
    [7],
  );
  assert.ok(alerts[0]!.metadata.includes(`top_features ${F0}:0.900`));
  assert.ok(alerts[0]!.metadata.includes('vigil_type anomaly'));
  const strict: AlertRecord[] = [];
  const st2 = new ModelStage({ classifier: null, anomaly, confidenceThreshold: 0.9, anomalyThreshold: 0.8 }, (a) =>
    strict.push(a),
  );
  st2.flowEnd(flow(7, 0.75, 0));
  st2.flush();
  assert.equal(strict.length, 0);
});

test('a model needing features the flow engine lacks is refused', () => {
  const bad: LoadedModel = { ...classifier, file: file({ features: ['duration', 'src_bytes'] }) };
  assert.throws(
    () => new ModelStage({ classifier: bad, anomaly: null, confidenceThreshold: 0.9, anomalyThreshold: null }, () => 0),
    (e: unknown) => e instanceof ModelError && /duration, src_bytes/.test(e.message),
  );
});

test('class names map onto Vigil types', () => {
  assert.equal(typeForClass('Web Attack - SQL Injection'), 'sql_injection');
  assert.equal(typeForClass('Web Attack - XSS'), 'xss');
  assert.equal(typeForClass('PortScan'), 'port_scan');
  assert.equal(typeForClass('SSH-Patator'), 'brute_force');
  assert.equal(typeForClass('DDoS'), 'dos');
  assert.equal(typeForClass('Botnet'), 'malware');
  assert.equal(typeForClass('Probe'), 'port_scan');
  assert.equal(typeForClass('R2L'), 'anomaly');
});

test('limiter: one alert per class and source or destination within limitSeconds, then again', () => {
  const alerts: AlertRecord[] = [];
  const st = new ModelStage(
    { classifier, anomaly: null, confidenceThreshold: 0.8, anomalyThreshold: null, limitSeconds: 60 },
    (a) => alerts.push(a),
  );
  const at = (id: number, src: string, dst: string, tSec: number): FlowRecord => {
    const f = flow(id, 0.95, 1);
    return { ...f, srcIp: src, dstIp: dst, endUs: tSec * 1e6 } as FlowRecord;
  };
  st.flowEnd(at(1, '10.0.0.1', '10.0.0.2', 0)); // alerts
  st.flowEnd(at(2, '10.0.0.9', '10.0.0.2', 10)); // same victim (spoofed flood): folded
  st.flowEnd(at(3, '10.0.0.1', '10.0.0.7', 20)); // same attacker (sweep): folded
  st.flowEnd(at(4, '10.0.0.8', '10.0.0.6', 30)); // new pair: alerts
  st.flowEnd(at(5, '10.0.0.1', '10.0.0.2', 61)); // window over: alerts again
  st.flush();
  assert.deepEqual(
    alerts.map((a) => a.flowId),
    [1, 4, 5],
  );
  assert.equal(st.limited, 2);
  assert.equal(st.scored, 5);
});
