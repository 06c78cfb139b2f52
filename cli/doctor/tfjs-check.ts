import type { CheckResult } from './check-result.js';

/** Training backends, fastest first: the trainer takes the first that loads. */
export const TFJS_BACKENDS = [
  { pkg: '@tensorflow/tfjs-node-gpu', label: 'native GPU (CUDA)' },
  { pkg: '@tensorflow/tfjs-node', label: 'native CPU' },
  { pkg: '@tensorflow/tfjs-backend-wasm', label: 'wasm' },
] as const;

async function loads(pkg: string): Promise<boolean> {
  try {
    await import(pkg);
    return true;
  } catch {
    return false;
  }
}

/** Which TensorFlow.js backends load here; none means no training at all. */
export async function checkTfjs(): Promise<CheckResult> {
  const available: string[] = [];
  for (const b of TFJS_BACKENDS) if (await loads(b.pkg)) available.push(b.label);
  if (available.length === 0) return { name: 'tfjs', level: 'fail', detail: 'no TensorFlow.js backend loads: training cannot run', fix: 'npm ci (installs @tensorflow/tfjs-backend-wasm)' };
  const native = available[0] !== 'wasm';
  return {
    name: 'tfjs',
    level: 'ok',
    detail: `available: ${available.join(', ')}; training uses ${available[0]}${native ? '' : ' (transfer mode is quick; scratch mode is slow without a native backend)'}`,
  };
}
