import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { registerBatchNormGradient } from './batch-norm-gradient.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';

export type Tf = typeof tf;
export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
/** 'tensorflow' is what tfjs-node and tfjs-node-gpu both register (the GPU build runs on CUDA). */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface TfBackend {
  name: BackendName;
  /** Which package provided it, for the manifest's training settings. */
  provider: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node' | '@tensorflow/tfjs-backend-wasm' | '@tensorflow/tfjs';
  tf: Tf;
  /** Why each backend tried before the chosen one was skipped. */
  skipped: Array<{ provider: string; reason: string }>;
}

const NATIVE_PROVIDERS = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/**
 * Loads a native package by a name held in a variable so bundlers and the type checker do not insist
 * on it: both native builds are optional dependencies that fail to install offline.
 */
async function importOptional(name: string): Promise<void> {
  await import(name);
}

function missingModule(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
}

function errorReason(err: unknown): string {
  if (missingModule(err)) return 'not installed';
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0].slice(0, 200);
}

/** The folder holding the .wasm binaries on disk, so Node reads them from there instead of fetching. */
function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

async function tryNative(provider: (typeof NATIVE_PROVIDERS)[number]): Promise<TfBackend | string> {
  try {
    await importOptional(provider);
  } catch (err) {
    return errorReason(err);
  }
  try {
    // Both packages register under the same backend name into the tfjs-core they share with us.
    if (!(await tf.setBackend('tensorflow'))) return 'registered, but the backend failed to start';
    await tf.ready();
    return { name: 'tensorflow', provider, tf, skipped: [] };
  } catch (err) {
    return errorReason(err);
  }
}

async function tryWasm(): Promise<TfBackend | string> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(wasmBinaryDir());
    // Worker threads for the threaded build are a browser feature; under Node one thread is what works.
    wasm.setThreadsCount(1);
    registerWasmTrainingKernels();
    if (!(await tf.setBackend('wasm'))) return 'the wasm module failed to start';
    await tf.ready();
    return { name: 'wasm', provider: '@tensorflow/tfjs-backend-wasm', tf, skipped: [] };
  } catch (err) {
    return errorReason(err);
  }
}

async function tryCpu(): Promise<TfBackend | string> {
  try {
    if (!(await tf.setBackend('cpu'))) return 'the cpu backend failed to start';
    await tf.ready();
    return { name: 'cpu', provider: '@tensorflow/tfjs', tf, skipped: [] };
  } catch (err) {
    return errorReason(err);
  }
}

let pending: Promise<TfBackend> | undefined;
let pendingPreference: BackendPreference | undefined;

/**
 * Picks the fastest TensorFlow.js backend that works here, in order: tfjs-node-gpu, tfjs-node, the
 * wasm backend (with the training kernels it lacks registered), then the pure-JS cpu backend (which
 * trains a CNN some fifty times slower than wasm). Logs the choice and why the others were skipped.
 * A process has one tfjs engine, so the first call decides; later calls with the same preference
 * share it, and a different preference switches the engine's backend.
 */
export function initTfBackend(preference: BackendPreference = 'auto', logger: Logger = silentLogger): Promise<TfBackend> {
  if (!pending || pendingPreference !== preference) {
    pendingPreference = preference;
    pending = chooseBackend(preference, logger);
    pending.catch(() => {
      pending = undefined;
    });
  }
  return pending;
}

async function chooseBackend(preference: BackendPreference, logger: Logger): Promise<TfBackend> {
  // Production mode drops tfjs's per-op NaN checks and its console advice to install tfjs-node.
  tf.enableProdMode();
  registerBatchNormGradient();
  const candidates: Array<{ provider: string; attempt: () => Promise<TfBackend | string> }> = [];
  if (preference === 'auto' || preference === 'tensorflow') {
    for (const provider of NATIVE_PROVIDERS) candidates.push({ provider, attempt: () => tryNative(provider) });
  }
  if (preference === 'auto' || preference === 'wasm') candidates.push({ provider: '@tensorflow/tfjs-backend-wasm', attempt: tryWasm });
  if (preference === 'auto' || preference === 'cpu') candidates.push({ provider: '@tensorflow/tfjs (cpu)', attempt: tryCpu });

  const skipped: TfBackend['skipped'] = [];
  for (const candidate of candidates) {
    const result = await candidate.attempt();
    if (typeof result === 'string') {
      skipped.push({ provider: candidate.provider, reason: result });
      continue;
    }
    const chosen = { ...result, skipped };
    logger.info({ backend: chosen.name, provider: chosen.provider, skipped }, `tfjs backend: ${chosen.name} (${chosen.provider})${skipped.length ? `; skipped ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}` : ''}`);
    if (chosen.name === 'cpu') logger.warn('the pure-JS cpu backend trains convolutional networks very slowly; transfer mode stays usable');
    return chosen;
  }
  throw new SkywatchError('BACKEND_UNAVAILABLE', `no TensorFlow.js backend for preference '${preference}': ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}`, { preference, skipped });
}
