import { AttrType, DataType, encodeModel, type Attribute, type Graph, type Model, type OnnxNode, type Tensor, type ValueInfo } from './onnx-proto.js';

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

/** An attribute from a plain value: integers as INT(S), `{ float }`/`{ floats }` for floats, text as STRING. */
export function attr(name: string, value: AttrValue): Attribute {
  if (typeof value === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') return { name, type: AttrType.INT, i: value };
  if (Array.isArray(value)) return { name, type: AttrType.INTS, ints: value };
  if ('float' in value) return { name, type: AttrType.FLOAT, f: value.float };
  return { name, type: AttrType.FLOATS, floats: value.floats };
}

export function floatTensor(name: string, dims: number[], data: Float32Array | number[]): Tensor {
  const values = data instanceof Float32Array ? data : Float32Array.from(data);
  if (values.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`tensor ${name}: ${values.length} values for dims ${dims.join('x')}`);
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) };
}

export function int64Tensor(name: string, dims: number[], data: number[]): Tensor {
  return { name, dims, dataType: DataType.INT64, int64Data: data };
}

export function tensorValue(name: string, elemType: number, dims: Array<number | string>): ValueInfo {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

/**
 * Appends nodes and initialisers to a graph with names that cannot collide with the graph's own
 * (every name the builder makes carries its prefix).
 */
export class GraphBuilder {
  readonly graph: Graph;
  private counter = 0;

  constructor(graph: Graph = {}, private readonly prefix = 'sw_') {
    this.graph = graph;
    graph.node ??= [];
    graph.initializer ??= [];
    graph.input ??= [];
    graph.output ??= [];
  }

  name(hint: string): string {
    return `${this.prefix}${hint}_${this.counter++}`;
  }

  initializer(hint: string, dims: number[], data: Float32Array | number[]): string {
    const name = this.name(hint);
    this.graph.initializer!.push(floatTensor(name, dims, data));
    return name;
  }

  int64Initializer(hint: string, dims: number[], data: number[]): string {
    const name = this.name(hint);
    this.graph.initializer!.push(int64Tensor(name, dims, data));
    return name;
  }

  /** Adds one node and returns the name of its (first) output. */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    const out = output ?? this.name(opType.toLowerCase());
    const node: OnnxNode = { opType, input: inputs, output: [out], name: this.name(`${opType}_node`), attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)) };
    this.graph.node!.push(node);
    return out;
  }

  input(name: string, elemType: number, dims: Array<number | string>): string {
    this.graph.input!.push(tensorValue(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: number, dims: Array<number | string>): void {
    this.graph.output!.push(tensorValue(name, elemType, dims));
  }
}

/** A whole model around a graph built here, at ONNX opset 13. */
export function buildModel(graph: Graph, opset = 13, docString = 'exported by Skywatch'): Uint8Array {
  const model: Model = { irVersion: 7, opsetImport: [{ domain: '', version: opset }], producerName: 'skywatch', producerVersion: '0.1.0', docString, graph };
  return encodeModel(model);
}
