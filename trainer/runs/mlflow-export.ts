import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { RunRecord } from './run-record.js';

/**
 * Writes runs in MLflow's file-store layout (`mlruns/`), which `mlflow ui --backend-store-uri <dir>`
 * and `mlflow.search_runs` read directly:
 *   <dir>/<experiment_id>/meta.yaml
 *   <dir>/<experiment_id>/<run_id>/meta.yaml
 *   <dir>/<experiment_id>/<run_id>/params/<name>         (the value, as text)
 *   <dir>/<experiment_id>/<run_id>/metrics/<name>        (lines "<timestamp ms> <value> <step>")
 *   <dir>/<experiment_id>/<run_id>/tags/<name>
 * MLflow run ids are 32 hex characters: derived from the Skywatch run id so a re-export overwrites.
 */
export interface MlflowExport {
  dir: string;
  experimentId: string;
  runs: Array<{ id: string; mlflowRunId: string; dir: string }>;
}

const safeName = (name: string): string => name.replace(/[^A-Za-z0-9_.\- /]/g, '_').replace(/\//g, '_');
const yamlString = (s: string): string => JSON.stringify(s);

export async function exportMlflow(runs: RunRecord[], dir: string, experiment = { id: '1', name: 'skywatch' }): Promise<MlflowExport> {
  const expDir = path.join(dir, experiment.id);
  await mkdir(expDir, { recursive: true });
  const created = Math.min(...runs.map((r) => Date.parse(r.started)).filter(Number.isFinite), Date.now());
  await writeFile(path.join(expDir, 'meta.yaml'), [
    `artifact_location: ${yamlString(`file://${path.resolve(expDir)}`)}`,
    `creation_time: ${created}`,
    `experiment_id: ${yamlString(experiment.id)}`,
    `last_update_time: ${Date.now()}`,
    'lifecycle_stage: active',
    `name: ${yamlString(experiment.name)}`,
    '',
  ].join('\n'));
  const out: MlflowExport = { dir, experimentId: experiment.id, runs: [] };
  for (const run of runs) {
    const runId = createHash('md5').update(run.id).digest('hex');
    const runDir = path.join(expDir, runId);
    for (const sub of ['params', 'metrics', 'tags', 'artifacts']) await mkdir(path.join(runDir, sub), { recursive: true });
    const start = Date.parse(run.started);
    const end = run.finished ? Date.parse(run.finished) : null;
    await writeFile(path.join(runDir, 'meta.yaml'), [
      `artifact_uri: ${yamlString(`file://${path.resolve(runDir, 'artifacts')}`)}`,
      `end_time: ${end ?? 'null'}`,
      'entry_point_name: ""',
      `experiment_id: ${yamlString(experiment.id)}`,
      'lifecycle_stage: active',
      `run_id: ${runId}`,
      `run_name: ${yamlString(run.id)}`,
      `run_uuid: ${runId}`,
      'source_name: ""',
      'source_type: 4',
      'source_version: ""',
      `start_time: ${start}`,
      // MLflow's RunStatus enum: RUNNING 1, FINISHED 3, FAILED 4.
      `status: ${run.status === 'finished' ? 3 : run.status === 'failed' ? 4 : 1}`,
      'tags: []',
      'user_id: skywatch',
      '',
    ].join('\n'));
    for (const [name, value] of Object.entries(run.params)) {
      await writeFile(path.join(runDir, 'params', safeName(name)), typeof value === 'string' ? value : JSON.stringify(value));
    }
    const metricLines = new Map<string, string[]>();
    const add = (name: string, value: number | undefined, step: number, at: number): void => {
      if (value === undefined || !Number.isFinite(value)) return;
      const lines = metricLines.get(name) ?? [];
      lines.push(`${at} ${value} ${step}`);
      metricLines.set(name, lines);
    };
    let at = start;
    for (const e of run.epochs) {
      at += Math.round((e.seconds ?? 0) * 1000);
      // A run of several fits (track) logs each part's curves under its own names: track_loss, crop_fold_1_3_loss...
      const prefix = e.part ? `${e.part.replace(/[^A-Za-z0-9]+/g, '_')}_` : '';
      add(`${prefix}loss`, e.loss, e.epoch, at);
      add(`${prefix}accuracy`, e.accuracy, e.epoch, at);
      add(`${prefix}val_loss`, e.valLoss, e.epoch, at);
      add(`${prefix}val_accuracy`, e.valAccuracy, e.epoch, at);
    }
    const m = run.metrics ?? {};
    const finalAt = end ?? at;
    if (typeof m.accuracy === 'number') add('test_accuracy', m.accuracy, 0, finalAt);
    if (typeof m.macroF1 === 'number') add('test_macro_f1', m.macroF1, 0, finalAt);
    for (const [label, v] of Object.entries((m.perLabel ?? {}) as Record<string, { recall?: number; precision?: number }>)) {
      add(`test_recall_${safeName(label)}`, v.recall, 0, finalAt);
      add(`test_precision_${safeName(label)}`, v.precision, 0, finalAt);
    }
    for (const [key, name] of [['clipRecall', 'test_clip_recall'], ['clipFalseAlarm', 'test_clip_false_alarm']] as const) {
      for (const [label, v] of Object.entries((m[key] ?? {}) as Record<string, unknown>)) if (typeof v === 'number') add(`${name}_${safeName(label)}`, v, 0, finalAt);
    }
    if (run.durationSeconds !== null) add('duration_seconds', run.durationSeconds, 0, finalAt);
    for (const [name, lines] of metricLines) await writeFile(path.join(runDir, 'metrics', name), `${lines.join('\n')}\n`);
    const tags: Record<string, string> = {
      'mlflow.runName': run.id,
      'mlflow.source.git.commit': run.code.commit ?? '',
      'mlflow.user': 'skywatch',
      'skywatch.kind': run.kind,
      'skywatch.data.fingerprint': run.data.fingerprint ?? '',
      'skywatch.data.source': run.data.source,
      'skywatch.machine': `${run.machine.hostname} ${run.machine.cpus} CPUs`,
      ...(run.modelVersion ? { 'skywatch.model.version': run.modelVersion } : {}),
      ...(run.sweep ? { 'skywatch.sweep': `${run.sweep.id}#${run.sweep.trial}` } : {}),
      ...run.tags,
    };
    for (const [name, value] of Object.entries(tags)) await writeFile(path.join(runDir, 'tags', safeName(name)), value);
    out.runs.push({ id: run.id, mlflowRunId: runId, dir: runDir });
  }
  return out;
}
