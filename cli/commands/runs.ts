import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { resolveLocal } from '../../core/config.js';
import { SkywatchError } from '../../core/errors.js';
import { comparisonHtml, comparisonTable, compareRuns } from '../../trainer/runs/compare-runs.js';
import { exportMlflow } from '../../trainer/runs/mlflow-export.js';
import { openRunStore } from '../../trainer/runs/open-run-store.js';
import { epochsByPart, type RunRecord } from '../../trainer/runs/run-record.js';
import { printResult, type CliContext } from '../context.js';
import { withRegistryOption } from './registry-option.js';

const pct = (x: unknown): string => (typeof x === 'number' ? `${(x * 100).toFixed(2)}%` : '–');

export function registerRunsCommands(program: Command, ctx: CliContext): void {
  const runs = program
    .command('runs')
    .summary('experiment tracking: list, show, compare and export training runs')
    .description('Every `skywatch train` (frame or track) records its run in the registry\'s store (runs/<id>/run.json): parameters, data fingerprint, code version, metrics per epoch, final metrics, artifacts, duration and machine. No account, no server: a folder or a gs:// bucket.');
  const store = async (flag?: string) => {
    const config = ctx.config();
    return openRunStore(resolveLocal(flag ?? config.registry), config.stateDir, config.gcs);
  };

  withRegistryOption(runs.command('list').description('every recorded run, newest first'))
    .option('--sweep <id>', 'only the trials of one sweep')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { registry?: string; sweep?: string; json?: boolean }) => {
      const all = (await (await store(opts.registry)).list()).filter((r) => !opts.sweep || r.sweep?.id === opts.sweep);
      printResult(!!opts.json, { runs: all.map(summary) }, () => (all.length === 0 ? 'no runs recorded yet (run: skywatch train)' : [
        `${'run'.padEnd(24)}${'kind'.padEnd(7)}${'status'.padEnd(10)}${'mode'.padEnd(10)}${'accuracy'.padStart(9)}${'epochs'.padStart(8)}${'seconds'.padStart(9)}  published`,
        ...all.map((r) => `${r.id.padEnd(24)}${r.kind.padEnd(7)}${r.status.padEnd(10)}${String(r.params.mode ?? '–').padEnd(10)}${pct(r.metrics?.accuracy).padStart(9)}${String(r.epochs.length).padStart(8)}${(r.durationSeconds === null ? '–' : r.durationSeconds.toFixed(0)).padStart(9)}  ${r.published ? (r.published.promoted ? 'latest' : 'candidate') : '–'}`),
      ].join('\n')));
    });

  withRegistryOption(runs.command('show').argument('<id>', 'run id (the model version it trained)').description('one run in full'))
    .option('--json', 'one JSON document on stdout')
    .action(async (id: string, opts: { registry?: string; json?: boolean }) => {
      const r = await (await store(opts.registry)).get(id);
      printResult(!!opts.json, r, () => [
        `run       ${r.id} (${r.kind}, ${r.status})`,
        `started   ${r.started}${r.durationSeconds !== null ? `, ${r.durationSeconds.toFixed(1)} s` : ''}`,
        `params    ${Object.entries(r.params).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ')}`,
        `data      ${r.data.source} (fingerprint ${r.data.fingerprint?.slice(0, 16) ?? '–'})`,
        `code      ${r.code.version} ${r.code.commit?.slice(0, 12) ?? '(no commit)'}${r.code.dirty ? ' (uncommitted changes)' : ''}`,
        `machine   ${r.machine.hostname}, ${r.machine.cpus} x ${r.machine.cpuModel}, ${r.machine.memoryGb} GB, Node ${r.machine.node}, load ${r.machine.loadAverage.join(' ')}${r.machine.backend ? `, tfjs ${r.machine.backend}` : ''}`,
        `metrics   ${r.kind === 'track' ? 'track ' : ''}accuracy ${pct(r.metrics?.accuracy)}, macro F1 ${pct(r.metrics?.macroF1)}`,
        ...(r.kind === 'track' ? [`clips     alerted: ${clipShares(r)}`] : []),
        ...epochLines(r),
        `model     ${r.modelVersion ?? '(not published)'}${r.published ? ` ${r.published.reason}` : ''}`,
        ...(r.sweep ? [`sweep     ${r.sweep.id} trial ${r.sweep.trial}`] : []),
        ...(r.error ? [`error     ${r.error.code}: ${r.error.message}`] : []),
        `artifacts ${r.artifacts.map((a) => `${a.name} (${a.where})`).join(', ') || '–'}`,
      ].join('\n'));
    });

  withRegistryOption(runs.command('compare').argument('<ids...>', 'two or more run ids').description('parameters side by side (differing first), final metrics with the best marked, and with --html a page with the curves'))
    .option('--html <file>', 'write a self-contained HTML comparison with loss and accuracy curves')
    .option('--json', 'one JSON document on stdout')
    .action(async (ids: string[], opts: { registry?: string; html?: string; json?: boolean }) => {
      if (ids.length < 2) throw new SkywatchError('BAD_REQUEST', 'compare needs at least two run ids');
      const s = await store(opts.registry);
      const records: RunRecord[] = [];
      for (const id of ids) records.push(await s.get(id));
      if (opts.html) await writeFile(opts.html, comparisonHtml(records));
      const c = compareRuns(records);
      printResult(!!opts.json, c, () => `${comparisonTable(c)}${opts.html ? `\n\ncomparison page: ${opts.html}` : ''}`);
    });

  withRegistryOption(runs.command('export').description("write runs in MLflow's file-store layout (open with: mlflow ui --backend-store-uri DIR)"))
    .requiredOption('--mlflow <dir>', 'output folder (an mlruns/ tree)')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { registry?: string; mlflow: string; json?: boolean }) => {
      const all = await (await store(opts.registry)).list();
      const out = await exportMlflow(all, opts.mlflow);
      printResult(!!opts.json, out, () => `${out.runs.length} runs written to ${out.dir} (experiment ${out.experimentId}); view with: mlflow ui --backend-store-uri ${out.dir}`);
    });
}

/** Held-out clips with a drone alert per label, named for what they are (recall or false alarms). */
function clipShares(r: RunRecord): string {
  const shares = (key: string, what: string) => Object.entries((r.metrics?.[key] ?? {}) as Record<string, number>).map(([l, v]) => `${l} ${pct(v)} (${what})`);
  return [...shares('clipRecall', 'recall'), ...shares('clipFalseAlarm', 'false alarms')].join(', ') || '–';
}

/** Loss per epoch (validation loss where there is one); one line per fitted part when a run fits several. */
function epochLines(r: RunRecord): string[] {
  const curve = (epochs: RunRecord['epochs']) => epochs.map((e) => `${e.epoch}:${e.valLoss?.toFixed(3) ?? e.loss.toFixed(3)}`).join(' ');
  const parts = epochsByPart(r);
  if (parts.size <= 1) return [`epochs    ${curve(r.epochs)}`];
  return [...parts].map(([part, epochs], i) => `${i === 0 ? 'epochs    ' : '          '}${part}: ${curve(epochs)} (final accuracy ${pct(epochs.at(-1)!.accuracy)})`);
}

function summary(r: RunRecord) {
  return { id: r.id, kind: r.kind, status: r.status, started: r.started, durationSeconds: r.durationSeconds, mode: r.params.mode ?? null, accuracy: r.metrics?.accuracy ?? null, ...(r.kind === 'track' ? { clipRecall: r.metrics?.clipRecall ?? null, clipFalseAlarm: r.metrics?.clipFalseAlarm ?? null } : {}), epochs: r.epochs.length, modelVersion: r.modelVersion, published: r.published, sweep: r.sweep };
}
