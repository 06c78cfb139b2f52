import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SkywatchError } from '../core/errors.js';
import type { ModelManifest } from '../core/model/manifest.js';

/**
 * `<stateDir>/runs/<version>/`: everything one training run produced, kept whether or not it was
 * published. metrics.jsonl grows while training runs; manifest.json is written last, so a folder
 * with a manifest is a finished run and one without is an interrupted or failed one.
 */
export interface RunFolder {
  version: string;
  dir: string;
  modelPath: string;
  manifestPath: string;
  metricsPath: string;
  metricsJsonlPath: string;
  reportPath: string;
}

export function runFolderPaths(stateDir: string, version: string): RunFolder {
  const dir = path.join(path.resolve(stateDir), 'runs', version);
  return {
    version,
    dir,
    modelPath: path.join(dir, 'model.onnx'),
    manifestPath: path.join(dir, 'manifest.json'),
    metricsPath: path.join(dir, 'metrics.json'),
    metricsJsonlPath: path.join(dir, 'metrics.jsonl'),
    reportPath: path.join(dir, 'report.html'),
  };
}

/** Creates the folder for a new run; a version is never reused. */
export async function createRunFolder(stateDir: string, version: string): Promise<RunFolder> {
  const folder = runFolderPaths(stateDir, version);
  await mkdir(path.dirname(folder.dir), { recursive: true });
  try {
    await mkdir(folder.dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new SkywatchError('BAD_REQUEST', `run folder ${folder.dir} already exists`);
    throw err;
  }
  return folder;
}

/** Writes to a temporary name and renames, so a reader never sees half a file. */
async function writeAtomic(file: string, data: Buffer | string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/** The model goes first: evaluation reads it from the run folder before the manifest exists. */
export async function writeRunModel(folder: RunFolder, model: Buffer): Promise<void> {
  await writeAtomic(folder.modelPath, model);
}

export interface RunArtifacts {
  manifest: ModelManifest;
  /** Evaluation and training summary, pretty-printed as metrics.json. */
  metrics: unknown;
  reportHtml: string;
}

export async function writeRunArtifacts(folder: RunFolder, artifacts: RunArtifacts): Promise<void> {
  await writeAtomic(folder.metricsPath, `${JSON.stringify(artifacts.metrics, null, 2)}\n`);
  await writeAtomic(folder.reportPath, artifacts.reportHtml);
  await writeAtomic(folder.manifestPath, `${JSON.stringify(artifacts.manifest, null, 2)}\n`);
}
