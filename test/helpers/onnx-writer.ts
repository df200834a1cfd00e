/**
 * TEST ONLY: writes small ONNX models as protobuf bytes by hand (no `onnx` Python module here), for
 * the onnx scorer's tests. Field numbers from onnx/onnx.proto (IR version 7, opset 13):
 *   ModelProto      1 ir_version, 2 producer_name, 7 graph, 8 opset_import
 *   OperatorSetId   1 domain, 2 version
 *   GraphProto      1 node, 2 name, 5 initializer, 11 input, 12 output
 *   NodeProto       1 input, 2 output, 3 name, 4 op_type, 5 attribute
 *   AttributeProto  1 name, 3 i, 20 type (2 = INT)
 *   TensorProto     1 dims, 2 data_type (1 FLOAT, 7 INT64, 11 DOUBLE), 8 name, 9 raw_data
 *   ValueInfoProto  1 name, 2 type; TypeProto 1 tensor_type; Tensor 1 elem_type, 2 shape;
 *   TensorShapeProto 1 dim; Dimension 1 dim_value, 2 dim_param
 * Never imported by src/.
 */

type Bytes = number[];

function varint(v: number | bigint, out: Bytes): void {
  let x = BigInt.asUintN(64, BigInt(v));
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n) b |= 0x80;
    out.push(b);
  } while (x !== 0n);
}

const key = (field: number, wire: number, out: Bytes): void => varint(field * 8 + wire, out);

function int(field: number, v: number | bigint): Bytes {
  const o: Bytes = [];
  key(field, 0, o);
  varint(v, o);
  return o;
}

function bytes(field: number, b: ArrayLike<number>): Bytes {
  const o: Bytes = [];
  key(field, 2, o);
  varint(b.length, o);
  for (let i = 0; i < b.length; i++) o.push(b[i]!);
  return o;
}

const str = (field: number, s: string): Bytes => bytes(field, new TextEncoder().encode(s));
const msg = (field: number, ...parts: Bytes[]): Bytes => bytes(field, parts.flat());

export const FLOAT = 1;
export const INT64 = 7;
export const DOUBLE = 11;

/** An initializer tensor. */
export function tensor(name: string, dims: number[], type: number, values: ArrayLike<number>): Bytes {
  let raw: Uint8Array;
  if (type === FLOAT) raw = new Uint8Array(Float32Array.from(values).buffer);
  else if (type === DOUBLE) raw = new Uint8Array(Float64Array.from(values).buffer);
  else raw = new Uint8Array(BigInt64Array.from(Array.from(values, (v) => BigInt(v))).buffer);
  return [...dims.flatMap((d) => int(1, d)), ...int(2, type), ...str(8, name), ...bytes(9, raw)];
}

/** A graph input/output: dims are numbers (fixed) or strings (symbolic). */
export function valueInfo(name: string, type: number, dims: (number | string)[]): Bytes {
  const shape = dims.map((d) => msg(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  return [...str(1, name), ...msg(2, msg(1, int(1, type), msg(2, ...shape)))];
}

/** A node; attrs are INT attributes. */
export function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, number> = {}): Bytes {
  return [
    ...inputs.flatMap((i) => str(1, i)),
    ...outputs.flatMap((o) => str(2, o)),
    ...str(3, `${op}_${outputs[0]}`),
    ...str(4, op),
    ...Object.entries(attrs).flatMap(([n, v]) => msg(5, str(1, n), int(3, v), int(20, 2))),
  ];
}

/** A ModelProto (IR 7, default-domain opset 13) around the graph parts. */
export function model(g: { nodes: Bytes[]; initializers: Bytes[]; inputs: Bytes[]; outputs: Bytes[] }): Uint8Array {
  const graph = [
    ...g.nodes.flatMap((n) => msg(1, n)),
    ...str(2, 'test'),
    ...g.initializers.flatMap((t) => msg(5, t)),
    ...g.inputs.flatMap((v) => msg(11, v)),
    ...g.outputs.flatMap((v) => msg(12, v)),
  ];
  return Uint8Array.from([...int(1, 7), ...str(2, 'vigil-test'), ...msg(7, graph), ...msg(8, str(1, ''), int(2, 13))]);
}

/**
 * A multinomial logistic model: logits = X·W + b, probabilities = Softmax(logits). Input "X"
 * [N, d] (or [N, d, 1] through a Reshape when `seq`), outputs "probabilities" and "logits"; W is
 * d × k row-major.
 */
export function logisticOnnx(
  W: number[],
  b: number[],
  d: number,
  o: { seq?: boolean; batch?: number | string; type?: number } = {},
): Uint8Array {
  const k = b.length;
  const type = o.type ?? FLOAT;
  const batch = o.batch ?? 'N';
  const nodes: Bytes[] = [];
  const initializers: Bytes[] = [tensor('W', [d, k], type, W), tensor('B', [k], type, b)];
  let x = 'X';
  if (o.seq === true) {
    initializers.push(tensor('flat', [2], INT64, [-1, d]));
    nodes.push(node('Reshape', ['X', 'flat'], ['X2']));
    x = 'X2';
  }
  nodes.push(node('MatMul', [x, 'W'], ['XW']), node('Add', ['XW', 'B'], ['logits']));
  nodes.push(node('Softmax', ['logits'], ['probabilities'], { axis: 1 }));
  return model({
    nodes,
    initializers,
    inputs: [valueInfo('X', type, o.seq === true ? [batch, d, 1] : [batch, d])],
    outputs: [valueInfo('probabilities', type, [batch, k]), valueInfo('logits', type, [batch, k])],
  });
}

/** A binary model with one output column: p = Sigmoid(X·w + b) ("p") and its logit ("z"). */
export function sigmoidOnnx(w: number[], b: number, d: number): Uint8Array {
  return model({
    nodes: [node('MatMul', ['X', 'w'], ['Xw']), node('Add', ['Xw', 'b'], ['z']), node('Sigmoid', ['z'], ['p'])],
    initializers: [tensor('w', [d, 1], FLOAT, w), tensor('b', [1], FLOAT, [b])],
    inputs: [valueInfo('X', FLOAT, ['N', d])],
    outputs: [valueInfo('p', FLOAT, ['N', 1]), valueInfo('z', FLOAT, ['N', 1])],
  });
}

/** A well-formed graph with an operator no runtime has. */
export function unknownOpOnnx(d: number, k: number): Uint8Array {
  return model({
    nodes: [node('NoSuchOperator', ['X'], ['Y'])],
    initializers: [],
    inputs: [valueInfo('X', FLOAT, ['N', d])],
    outputs: [valueInfo('Y', FLOAT, ['N', k])],
  });
}
