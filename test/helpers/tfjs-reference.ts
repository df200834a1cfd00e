/**
 * TEST ONLY: TensorFlow.js as the reference for the hand-written network inference
 * (src/detect/classify/nn-layers.ts). Builds a tf.Sequential with the same layers and weights as a
 * serialized `mlp`/`cnn` model and returns its softmax outputs. Never imported by src/.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerJson } from '../../src/detect/classify/nn-layers.js';

let ready: Promise<void> | null = null;

/** Select a tfjs backend once per process ('cpu': pure JS, float32). */
export function tfReady(backend = 'cpu'): Promise<void> {
  ready ??= (async () => {
    // Quiet: no "install tfjs-node" banner in test output (backend_util.warn is off in prod mode).
    tf.enableProdMode();
    await tf.setBackend(backend);
    await tf.ready();
  })();
  return ready;
}

/** A tf model equal to `layers` + softmax over d inputs. */
export function tfModel(layers: readonly LayerJson[], d: number): tf.Sequential {
  const m = tf.sequential();
  // Shape as tfjs sees it: flat [size] or a sequence [length, channels].
  let seq: [number, number] | null = null;
  let first = true;
  const input = (): { inputShape?: number[] } => {
    if (!first) return {};
    first = false;
    return { inputShape: [d] };
  };
  const assign: [tf.layers.Layer, number[][]][] = [];
  for (const l of layers) {
    if (l.kind === 'dense') {
      if (seq !== null) {
        m.add(tf.layers.flatten(input()));
        seq = null;
      }
      const layer = tf.layers.dense({ units: l.out, ...input() });
      m.add(layer);
      assign.push([layer, [l.weights, l.bias]]);
    } else if (l.kind === 'conv1d') {
      if (seq === null) m.add(tf.layers.reshape({ targetShape: [l.length, l.in], ...input() }));
      const layer = tf.layers.conv1d({ filters: l.out, kernelSize: l.kernel, strides: 1, padding: 'valid' });
      m.add(layer);
      assign.push([layer, [l.weights, l.bias]]);
      seq = [l.length - l.kernel + 1, l.out];
    } else if (l.kind === 'relu') {
      m.add(tf.layers.reLU(input()));
    } else {
      if (seq === null) m.add(tf.layers.reshape({ targetShape: [l.length, l.channels], ...input() }));
      m.add(tf.layers.maxPooling1d({ poolSize: l.pool, strides: l.pool, padding: 'valid' }));
      seq = [Math.floor(l.length / l.pool), l.channels];
    }
  }
  if (seq !== null) m.add(tf.layers.flatten());
  m.add(tf.layers.softmax());
  for (const [layer, [w, b]] of assign) {
    const shapes = layer.getWeights().map((t) => t.shape);
    layer.setWeights([tf.tensor(w!, shapes[0]!), tf.tensor(b!, shapes[1]!)]);
  }
  return m;
}

/** tfjs's softmax outputs for n rows of d values (row-major). */
export function tfPredict(layers: readonly LayerJson[], x: Float64Array, n: number, d: number): Float32Array {
  const m = tfModel(layers, d);
  const out = tf.tidy(() => (m.predict(tf.tensor2d(Float32Array.from(x), [n, d])) as tf.Tensor).dataSync());
  m.dispose();
  return out as Float32Array;
}
