/**
 * Bring-your-own model: `CLASSIFICATION_MODEL_TYPE=onnx` scores flows with an ONNX model trained
 * elsewhere (e.g. a converted SecIDS-CNN, a scikit-learn model through skl2onnx, a Keras model
 * through tf2onnx), run by ONNX Runtime (onnxruntime-node, CPU).
 *
 * The model directory holds `model.onnx` and the usual `model.json` as its sidecar: a ModelFile
 * of type `onnx` whose `features` name the input columns in order, `classes` the output columns,
 * `benignClass` the no-attack class, an optional `scaler` applied before the model, and
 *
 *   params: { file?: "model.onnx", data?: "<base64 of the .onnx>", input?: "<input name>",
 *             probabilities?: "<output name>", output?: "<output name>" }
 *
 * Exactly one of `file` (relative to the model directory) or `data` (the model embedded, for a
 * self-contained model.json) locates the graph. `probabilities` names an output that holds class
 * probabilities (n × classes, or n × 1 = P(second class) for two classes); `output` instead names
 * an output of raw scores, turned into probabilities by a softmax (n × classes) or a sigmoid (n × 1).
 * Neither: the first tensor output whose last dimension fits is read as probabilities. The input
 * defaults to the graph's only input; its shape may be [batch, features] or any shape whose
 * non-batch dimensions multiply to the feature count (a Keras Conv1D's [batch, features, 1]).
 *
 * Loading is checked synchronously, before anything is replaced: the file is read and its
 * protobuf decoded far enough to check the graph's inputs and outputs against the sidecar, so a
 * missing, truncated, corrupt or mismatched model is a ModelError with the reason. ONNX Runtime
 * itself loads asynchronously: `ready()` resolves once the session exists (or rejects with a
 * ModelError, e.g. for an operator it does not support), and predictProbaAsync waits for it.
 * onnxruntime-node is imported only when an onnx model is loaded, so the packet path does not
 * load the native runtime otherwise.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as OrtNs from 'onnxruntime-node';
import type { ModelFile, ScoringModel } from './model.js';
import { ModelError } from './model.js';
import { checkScalerNumbers, paramsObject, prepareBlock, softmaxInPlace } from './nn-layers.js';
import { sigmoid } from './linear.js';

/** Largest model file read (bounds memory on load; a converted CNN is a few MB). */
const MAX_ONNX_BYTES = 512 * 1024 * 1024;

/** ONNX TensorProto element types accepted for the input. */
const ELEM_FLOAT = 1;
const ELEM_DOUBLE = 11;

/** A graph input or output as declared in the ONNX file. */
export interface OnnxValueInfo {
  name: string;
  /** False for sequences and maps (e.g. skl2onnx's ZipMap output). */
  isTensor: boolean;
  /** TensorProto.DataType (1 float, 11 double, 7 int64, ...), 0 when unknown. */
  elemType: number;
  /** Dimensions: a number when fixed, a string (symbolic) or null (unknown) otherwise; null = rank unknown. */
  dims: (number | string | null)[] | null;
}

export interface OnnxGraphInfo {
  irVersion: number;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  nodes: number;
}

/** The scorer object: predictProbaAsync plus `ready()`. */
export interface OnnxModel extends ScoringModel {
  predictProbaAsync(x: Float64Array, n: number): Promise<Float64Array>;
  /** Resolves when ONNX Runtime has loaded the model; rejects with a ModelError if it cannot. */
  ready(): Promise<void>;
  /** The graph as declared in the file. */
  readonly graph: OnnxGraphInfo;
}

// ---- Minimal protobuf reading ------------------------------------------------------------------

class PbError extends Error {}

/** Protobuf wire-format reader over buf[pos, end). */
class Pb {
  constructor(
    private readonly buf: Uint8Array,
    public pos: number,
    private readonly end: number,
  ) {}

  more(): boolean {
    return this.pos < this.end;
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new PbError(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    throw new PbError(`varint too long at byte ${this.pos}`);
  }

  /** A length-delimited field: [start, end) of its bytes. */
  span(): [number, number] {
    const len = this.varint();
    const s = this.pos;
    if (len > this.end - s) throw new PbError(`field length ${len} runs past the end at byte ${s}`);
    this.pos = s + len;
    return [s, s + len];
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.advance(8);
    else if (wire === 2) this.span();
    else if (wire === 5) this.advance(4);
    else throw new PbError(`unsupported wire type ${wire} at byte ${this.pos}`);
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw new PbError(`truncated field at byte ${this.pos}`);
    this.pos += n;
  }

  /** Next (field, wire type). */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8);
    if (field === 0) throw new PbError(`field number 0 at byte ${this.pos}`);
    return [field, t & 7];
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function str(buf: Uint8Array, [s, e]: [number, number]): string {
  return utf8.decode(buf.subarray(s, e));
}

/** ValueInfoProto { 1: name, 2: TypeProto { 1: Tensor { 1: elem_type, 2: TensorShapeProto { 1: Dimension } } } }. */
function readValueInfo(buf: Uint8Array, s: number, e: number): OnnxValueInfo {
  const vi: OnnxValueInfo = { name: '', isTensor: false, elemType: 0, dims: null };
  const r = new Pb(buf, s, e);
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) vi.name = str(buf, r.span());
    else if (f === 2 && w === 2) {
      const [ts, te] = r.span();
      const t = new Pb(buf, ts, te);
      while (t.more()) {
        const [tf, tw] = t.tag();
        if (tf === 1 && tw === 2) {
          vi.isTensor = true;
          const [ss, se] = t.span();
          const tt = new Pb(buf, ss, se);
          while (tt.more()) {
            const [f2, w2] = tt.tag();
            if (f2 === 1 && w2 === 0) vi.elemType = tt.varint();
            else if (f2 === 2 && w2 === 2) {
              vi.dims = [];
              const [hs, he] = tt.span();
              const sh = new Pb(buf, hs, he);
              while (sh.more()) {
                const [f3, w3] = sh.tag();
                if (f3 === 1 && w3 === 2) {
                  const [ds, de] = sh.span();
                  const dm = new Pb(buf, ds, de);
                  let dim: number | string | null = null;
                  while (dm.more()) {
                    const [f4, w4] = dm.tag();
                    if (f4 === 1 && w4 === 0) {
                      const v = dm.varint();
                      // A negative int64 arrives as a huge varint; treat it as unknown.
                      dim = v < 2 ** 31 ? v : null;
                    } else if (f4 === 2 && w4 === 2) dim = str(buf, dm.span());
                    else dm.skip(w4);
                  }
                  vi.dims.push(dim);
                } else sh.skip(w3);
              }
            } else tt.skip(w2);
          }
        } else t.skip(tw);
      }
    } else r.skip(w);
  }
  return vi;
}

/**
 * Decode the parts of an ONNX ModelProto that loading needs: IR version, graph inputs (minus
 * initializers, which older exporters list as inputs), outputs, node count. Throws ModelError when
 * the bytes are not a well-formed ModelProto with a graph.
 */
export function readOnnxInfo(buf: Uint8Array, what = 'ONNX model'): OnnxGraphInfo {
  try {
    const r = new Pb(buf, 0, buf.length);
    let irVersion = 0;
    let graph: [number, number] | null = null;
    while (r.more()) {
      const [f, w] = r.tag();
      if (f === 1 && w === 0) irVersion = r.varint();
      else if (f === 7 && w === 2) graph = r.span();
      else r.skip(w);
    }
    if (irVersion === 0 || graph === null) throw new PbError('no ir_version or no graph: not an ONNX ModelProto');
    const inputs: OnnxValueInfo[] = [];
    const outputs: OnnxValueInfo[] = [];
    const initializers = new Set<string>();
    let nodes = 0;
    const g = new Pb(buf, graph[0], graph[1]);
    while (g.more()) {
      const [f, w] = g.tag();
      if (f === 1 && w === 2) {
        g.span();
        nodes++;
      } else if (f === 5 && w === 2) {
        // TensorProto: name is field 8.
        const [s, e] = g.span();
        const t = new Pb(buf, s, e);
        while (t.more()) {
          const [tf, tw] = t.tag();
          if (tf === 8 && tw === 2) initializers.add(str(buf, t.span()));
          else t.skip(tw);
        }
      } else if ((f === 11 || f === 12) && w === 2) {
        const [s, e] = g.span();
        (f === 11 ? inputs : outputs).push(readValueInfo(buf, s, e));
      } else g.skip(w);
    }
    if (nodes === 0) throw new PbError('the graph has no nodes');
    if (outputs.length === 0) throw new PbError('the graph has no outputs');
    return { irVersion, inputs: inputs.filter((i) => !initializers.has(i.name)), outputs, nodes };
  } catch (e) {
    if (e instanceof PbError || e instanceof TypeError)
      throw new ModelError(
        `${what} is not a valid ONNX file (${e.message}); the file is corrupt, truncated or of another kind`,
      );
    throw e;
  }
}

// ---- Scorer ------------------------------------------------------------------------------------

type OrtModule = typeof OrtNs;
type OrtSession = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;

const optName = (p: Record<string, unknown>, key: string, what: string): string | undefined => {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw new ModelError(`${what}: params.${key} must be a non-empty name`);
  return v;
};

/**
 * Build the scorer for an `onnx` ModelFile. `dir` is the model directory (params.file is read
 * relative to it). Throws ModelError on any mismatch found without running the model.
 */
export function onnxScorer(file: ModelFile, dir?: string): OnnxModel {
  const what = 'onnx model';
  if (file.type !== 'onnx') throw new ModelError(`not an onnx model (${file.type})`);
  const p = paramsObject(file.params, what);
  const k = file.classes.length;
  const d = file.features.length;
  if (k < 2) throw new ModelError(`${what}: needs at least two classes`);
  checkScalerNumbers(file.scaler, what);

  // Locate and read the graph.
  const rel = optName(p, 'file', what);
  const data = p['data'];
  if ((rel === undefined) === (data === undefined))
    throw new ModelError(`${what}: params needs exactly one of "file" (a path beside model.json) or "data" (base64)`);
  let bytes: Uint8Array;
  let where: string;
  if (rel !== undefined) {
    if (!path.isAbsolute(rel) && dir === undefined)
      throw new ModelError(`${what}: params.file "${rel}" is relative and no model directory was given`);
    where = dir === undefined ? rel : path.resolve(dir, rel);
    let st: fs.Stats;
    try {
      st = fs.statSync(where);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new ModelError(
        err.code === 'ENOENT' ? `${what}: ${where} not found` : `${what}: cannot read ${where}: ${err.message}`,
      );
    }
    if (!st.isFile()) throw new ModelError(`${what}: ${where} is not a file`);
    if (st.size > MAX_ONNX_BYTES) throw new ModelError(`${what}: ${where} is larger than ${MAX_ONNX_BYTES} bytes`);
    bytes = fs.readFileSync(where);
  } else {
    if (typeof data !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(data))
      throw new ModelError(`${what}: params.data must be the base64 text of the .onnx file`);
    where = 'params.data';
    bytes = Buffer.from(data, 'base64');
  }
  const graph = readOnnxInfo(bytes, `${what} (${where})`);

  // Input: named, or the only one; a float/double tensor whose non-batch dims hold d values.
  const inName = optName(p, 'input', what);
  const input =
    inName !== undefined
      ? graph.inputs.find((i) => i.name === inName)
      : graph.inputs.length === 1
        ? graph.inputs[0]
        : undefined;
  if (input === undefined)
    throw new ModelError(
      inName !== undefined
        ? `${what}: no input "${inName}" in the graph (inputs: ${graph.inputs.map((i) => i.name).join(', ')})`
        : `${what}: the graph has ${graph.inputs.length} inputs (${graph.inputs.map((i) => i.name).join(', ')}); name one in params.input`,
    );
  if (!input.isTensor || (input.elemType !== ELEM_FLOAT && input.elemType !== ELEM_DOUBLE))
    throw new ModelError(`${what}: input "${input.name}" must be a float or double tensor`);
  const inDims = input.dims ?? [null, d];
  if (inDims.length < 2) throw new ModelError(`${what}: input "${input.name}" needs a batch dimension and features`);
  const batchDim = inDims[0];
  // 0 is how some exporters write an unknown batch.
  if (typeof batchDim === 'number' && batchDim !== 1 && batchDim !== 0)
    throw new ModelError(
      `${what}: input "${input.name}" has a fixed batch of ${batchDim}; export it with a dynamic or unit batch`,
    );
  let fixed = 1;
  let free = 0;
  for (const v of inDims.slice(1)) {
    if (typeof v === 'number') fixed *= v;
    else free++;
  }
  if (free > 1 || (free === 0 && fixed !== d) || (free === 1 && (fixed === 0 || d % fixed !== 0)))
    throw new ModelError(
      `${what}: input "${input.name}" has shape [${inDims.map((v) => v ?? '?').join(', ')}], which does not hold the ${d} features`,
    );
  const shapeRest = inDims.slice(1).map((v) => (typeof v === 'number' ? v : d / fixed));
  const isDouble = input.elemType === ELEM_DOUBLE;
  const rowByRow = batchDim === 1;

  // Output: probabilities or raw scores.
  const probName = optName(p, 'probabilities', what);
  const rawName = optName(p, 'output', what);
  if (probName !== undefined && rawName !== undefined)
    throw new ModelError(`${what}: give params.probabilities or params.output, not both`);
  const fits = (o: OnnxValueInfo): boolean => {
    if (!o.isTensor) return false;
    const last = o.dims === null || o.dims.length === 0 ? null : o.dims[o.dims.length - 1];
    return typeof last !== 'number' || last === k || (k === 2 && last === 1);
  };
  const wanted = probName ?? rawName;
  const output =
    wanted !== undefined
      ? graph.outputs.find((o) => o.name === wanted)
      : graph.outputs.find((o) => o.isTensor && o.elemType !== 7 && fits(o));
  if (output === undefined)
    throw new ModelError(
      wanted !== undefined
        ? `${what}: no output "${wanted}" in the graph (outputs: ${graph.outputs.map((o) => o.name).join(', ')})`
        : `${what}: no output with ${k} class columns; name one in params.probabilities or params.output`,
    );
  if (!output.isTensor)
    throw new ModelError(
      `${what}: output "${output.name}" is not a tensor (a ZipMap? convert scikit-learn models with zipmap=False)`,
    );
  if (!fits(output))
    throw new ModelError(`${what}: output "${output.name}" does not have ${k} class columns (or one, for two classes)`);
  const raw = rawName !== undefined;

  // ONNX Runtime: loaded lazily and asynchronously; errors surface through ready().
  let session: OrtSession | null = null;
  let ort: OrtModule | null = null;
  const loading: Promise<void> = (async () => {
    try {
      ort = await import('onnxruntime-node');
      const opts = {
        graphOptimizationLevel: 'all',
        // One thread per scoring call: pipeline shards already use the cores.
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
      } as const;
      // From the path when there is one, so external-data files beside it are found.
      session =
        rel !== undefined
          ? await ort.InferenceSession.create(where, opts)
          : await ort.InferenceSession.create(bytes, opts);
    } catch (e) {
      throw new ModelError(`${what} (${where}): ONNX Runtime cannot load it: ${(e as Error).message}`);
    }
  })();
  // Handled by ready()/predictProbaAsync; keep an unobserved failure from crashing the process.
  loading.catch(() => undefined);

  async function runBatch(x: Float64Array, r0: number, r1: number, out: Float64Array): Promise<void> {
    const nb = r1 - r0;
    const rows = new Float64Array(nb * d);
    prepareBlock(x, r0, r1, d, file.scaler, rows);
    const o = ort!;
    const t = new o.Tensor(isDouble ? 'float64' : 'float32', isDouble ? rows : Float32Array.from(rows), [
      nb,
      ...shapeRest,
    ]);
    const res = await session!.run({ [input!.name]: t }, [output!.name]);
    const y = res[output!.name];
    if (y === undefined || !('data' in y))
      throw new ModelError(`${what}: output "${output!.name}" missing from the run`);
    const vals = y.data as ArrayLike<number | bigint>;
    const cols = vals.length / nb;
    if (cols !== k && !(k === 2 && cols === 1))
      throw new ModelError(`${what}: output "${output!.name}" gave ${cols} values per row for ${k} classes`);
    for (let r = 0; r < nb; r++) {
      const oo = (r0 + r) * k;
      if (cols === 1) {
        const v = Number(vals[r]!);
        // One column: P(second class), or its logit.
        const p1 = raw ? sigmoid(v) : v;
        out[oo] = 1 - p1;
        out[oo + 1] = p1;
      } else {
        for (let c = 0; c < k; c++) out[oo + c] = Number(vals[r * k + c]!);
        if (raw) softmaxInPlace(out, oo, k);
      }
      // NaN scores would compare as "not below the threshold" downstream: make them 0.
      for (let c = 0; c < k; c++) {
        const v = out[oo + c]!;
        if (!(v >= 0)) out[oo + c] = 0;
      }
    }
  }

  return {
    type: 'onnx',
    features: file.features,
    classes: file.classes,
    graph,
    ready: () => loading,
    async predictProbaAsync(x: Float64Array, n: number): Promise<Float64Array> {
      await loading;
      const out = new Float64Array(n * k);
      if (n === 0) return out;
      if (rowByRow) for (let r = 0; r < n; r++) await runBatch(x, r, r + 1, out);
      else await runBatch(x, 0, n, out);
      return out;
    },
  };
}
