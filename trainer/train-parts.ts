import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../core/errors.js';
import type { EvalMetrics, ModelInput } from '../core/model/manifest.js';
import type { BlobStore } from '../core/storage/blob-store.js';
import { openStore } from '../core/storage/open-store.js';
import type { PublishDecision, PublishRequest, RegistryHandle, ReportInput, SplitFile, Splits } from './train-types.js';

/**
 * The one place training meets the parts built beside it: data sets and splits (trainer/data),
 * evaluation and the report (trainer/eval), the backbone, embeddings and ONNX export
 * (trainer/transfer, trainer/onnx) and the registry (core/model/registry.ts). Each is adapted here to
 * the shapes in train-types.ts, so a change of signature there is fixed in this file alone.
 *
 * The modules are bound when first used rather than imported statically because they were written
 * in parallel with this one; `partsMissing()` names any that is absent, and a run that needs one
 * fails with a clear INTERNAL error instead of a module-resolution crash.
 */

interface PartSpec {
  module: string;
  exportName: string;
}

const PARTS = {
  loadSplits: { module: './data/splits.js', exportName: 'loadSplits' },
  datasetFingerprint: { module: './data/fingerprint.js', exportName: 'datasetFingerprint' },
  materializeDataset: { module: './data/materialize.js', exportName: 'materializeDataset' },
  evaluateModel: { module: './eval/evaluate.js', exportName: 'evaluateModel' },
  renderReportHtml: { module: './eval/report.js', exportName: 'renderReportHtml' },
  loadBackbone: { module: './transfer/backbone.js', exportName: 'loadBackbone' },
  computeEmbeddings: { module: './transfer/embeddings.js', exportName: 'computeEmbeddings' },
  createHead: { module: './transfer/head.js', exportName: 'createHead' },
  exportTransferModel: { module: './transfer/export-transfer.js', exportName: 'exportTransferModel' },
  exportLayersModel: { module: './onnx/export-layers-model.js', exportName: 'exportLayersModel' },
  ModelRegistry: { module: '../core/model/registry.js', exportName: 'ModelRegistry' },
} satisfies Record<string, PartSpec>;

type PartName = keyof typeof PARTS;

const bound = new Map<PartName, unknown>();

async function part<T>(name: PartName): Promise<T> {
  if (bound.has(name)) return bound.get(name) as T;
  const spec: PartSpec = PARTS[name];
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec.module)) as Record<string, unknown>;
  } catch (err) {
    throw new SkywatchError('INTERNAL', `training part ${name} is not available (${spec.module}): ${(err as Error).message}`, { part: name }, { cause: err });
  }
  const value = mod[spec.exportName];
  if (typeof value !== 'function') throw new SkywatchError('INTERNAL', `training part ${name}: ${spec.module} does not export ${spec.exportName}`, { part: name });
  bound.set(name, value);
  return value as T;
}

/** Names of the parts that cannot be loaded, so tests and `doctor` can say what is missing. */
export async function partsMissing(names: PartName[] = Object.keys(PARTS) as PartName[]): Promise<string[]> {
  const missing: string[] = [];
  for (const name of names) {
    await part(name).catch(() => missing.push(`${name} (${PARTS[name].module})`));
  }
  return missing;
}

// ---- data ----------------------------------------------------------------------------------------

interface RawSplits {
  train: SplitFile[];
  val: SplitFile[];
  test: SplitFile[];
  generated: boolean;
}

export async function materializeData(url: string, cacheDir: string): Promise<string> {
  const materialize = await part<(url: string, cacheDir: string) => Promise<string>>('materializeDataset');
  return materialize(url, cacheDir);
}

export async function loadDataSplits(dir: string, seed: number): Promise<Splits> {
  const load = await part<(dir: string, options: { seed: number }) => Promise<RawSplits>>('loadSplits');
  const fingerprint = await part<(dir: string) => Promise<string>>('datasetFingerprint');
  const raw = await load(dir, { seed });
  const absolute = (files: SplitFile[]): SplitFile[] => files.map((f) => ({ path: path.resolve(dir, f.path), label: f.label }));
  const labels = [...new Set([...raw.train, ...raw.val, ...raw.test].map((f) => f.label))].sort();
  return { labels, train: absolute(raw.train), val: absolute(raw.val), test: absolute(raw.test), generated: raw.generated, fingerprint: await fingerprint(dir) };
}

// ---- evaluation and report -----------------------------------------------------------------------

export interface EvaluateRequest {
  modelPath: string;
  input: ModelInput;
  outputName: string;
  labels: string[];
  files: SplitFile[];
  signal?: AbortSignal;
}

export async function evaluateOnnx(request: EvaluateRequest): Promise<EvalMetrics> {
  const evaluate = await part<(request: EvaluateRequest) => Promise<EvalMetrics>>('evaluateModel');
  return evaluate(request);
}

export async function renderReport(input: ReportInput): Promise<string> {
  const render = await part<(input: ReportInput) => string>('renderReportHtml');
  return render(input);
}

// ---- transfer and export -------------------------------------------------------------------------

/** The backbone as training needs it; the rest of what loadBackbone returns is the exporter's business. */
export interface Backbone {
  featureDim: number;
}

export async function openBackbone(onnxPath: string): Promise<Backbone> {
  const load = await part<(onnxPath: string) => Promise<Backbone>>('loadBackbone');
  return load(onnxPath);
}

export interface EmbedOptions {
  cacheDir: string;
  signal?: AbortSignal;
  /** False: the images as they are; a seed: an augmented copy drawn from it. */
  augment: false | { seed: number };
  onProgress?: (done: number, total: number) => void;
}

/** Row-major [files.length, featureDim]. */
export async function embedFiles(backbone: Backbone, files: string[], options: EmbedOptions): Promise<Float32Array> {
  const compute = await part<(b: Backbone, files: string[], o: EmbedOptions) => Promise<Float32Array>>('computeEmbeddings');
  return compute(backbone, files, options);
}

export async function createTransferHead(featureDim: number, labels: number, seed: number): Promise<tf.LayersModel> {
  const create = await part<(featureDim: number, labels: number, options: { seed: number }) => tf.LayersModel>('createHead');
  return create(featureDim, labels, { seed });
}

export interface ExportedModel {
  onnx: Buffer;
  input: ModelInput;
  outputName: string;
}

export async function exportTransfer(backbone: Backbone, head: tf.LayersModel, labels: string[]): Promise<ExportedModel> {
  const exporter = await part<(b: Backbone, h: tf.LayersModel, l: string[]) => Promise<ExportedModel>>('exportTransferModel');
  return exporter(backbone, head, labels);
}

export async function exportCnn(model: tf.LayersModel, input: ModelInput, labels: string[]): Promise<ExportedModel> {
  const exporter = await part<(m: tf.LayersModel, i: ModelInput, l: string[]) => Promise<ExportedModel>>('exportLayersModel');
  return exporter(model, input, labels);
}

// ---- registry ------------------------------------------------------------------------------------

interface RawRegistry {
  publish(request: PublishRequest): Promise<PublishDecision>;
  latest(): Promise<{ version: string } | null>;
}

export async function openModelRegistry(url: string, gcs: { apiEndpoint?: string; projectId?: string } = {}): Promise<RegistryHandle> {
  const Registry = await part<new (store: BlobStore) => RawRegistry>('ModelRegistry');
  const registry = new Registry(await openStore(url, { gcsApiEndpoint: gcs.apiEndpoint, gcsProjectId: gcs.projectId }));
  return {
    latestVersion: async () => (await registry.latest())?.version ?? null,
    publish: (request) => registry.publish(request),
  };
}
