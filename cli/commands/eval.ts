import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { SkywatchError } from '../../core/errors.js';
import { readLocalModel } from '../../core/model/registry.js';
import { scanDataset, type SkippedFile } from '../../trainer/data/scan.js';
import { loadSplits } from '../../trainer/data/splits.js';
import { evaluateDetailed } from '../../trainer/eval/evaluate.js';
import { checkQuality, formatGate, GATE_FAILED_EXIT, parseBar, parseLabelBar, type GateResult, type QualityBars } from '../../trainer/eval/quality-gate.js';
import { renderReportHtml } from '../../trainer/eval/report.js';
import { printResult, type CliContext } from '../context.js';
import { openRegistry, withRegistryOption } from './registry-option.js';

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function registerEvalCommand(program: Command, ctx: CliContext): void {
  withRegistryOption(program.command('eval'))
    .summary('evaluate any model on any labelled folder')
    .description('Runs a model (a registry version, "latest", or a model.onnx with manifest.json beside it) over every image of a labelled folder (or its test split) and prints accuracy, precision/recall/F1 per label, the confusion matrix and ROC AUC.')
    .requiredOption('--model <version|latest|file.onnx>', 'which model')
    .requiredOption('--data <dir>', 'folder with one subfolder per label')
    .option('--split <which>', '"all" images, or only the "test" split', 'all')
    .option('--seed <n>', 'seed of the splits made on the fly when the folder has no splits files (--split test)', (v) => Number.parseInt(v, 10), 42)
    .option('--report <file.html>', 'also write an HTML report with the confusion matrix and curves')
    .option('--json', 'one JSON document on stdout')
    .option('--check', `quality gate for CI: exit with status ${GATE_FAILED_EXIT} when any --min-* bar is not met`)
    .option('--min-accuracy <x>', 'with --check: lowest acceptable accuracy (0..1)', parseBar)
    .option('--min-macro-f1 <x>', 'with --check: lowest acceptable macro F1 (0..1)', parseBar)
    .option('--min-recall <label=x>', 'with --check: lowest acceptable recall of a label (repeatable)', parseLabelBar)
    .option('--min-precision <label=x>', 'with --check: lowest acceptable precision of a label (repeatable)', parseLabelBar)
    .addHelpText('after', '\nExamples:\n  skywatch eval --model latest --data ../shared/data/images/valid\n  skywatch eval --model latest --data valid/ --check --min-accuracy 0.95 --min-recall drone=0.95\n')
    .action(async (opts: EvalFlags) => {
      if (!['all', 'test'].includes(opts.split)) throw new SkywatchError('BAD_REQUEST', '--split must be "all" or "test"');
      const bars = barsOf(opts);
      const config = ctx.config();
      const { modelPath, manifest } = opts.model.endsWith('.onnx')
        ? await readLocalModel(path.resolve(opts.model))
        : await (await openRegistry(ctx, opts.registry)).fetch(opts.model, path.join(config.stateDir, 'cache', 'models'));
      const root = path.resolve(opts.data);
      let files: Array<{ path: string; label: string }>;
      let dataSkipped: SkippedFile[];
      if (opts.split === 'test') {
        const splits = await loadSplits(root, { seed: opts.seed });
        if (splits.generated) process.stderr.write(`no splits files: made seeded splits for this run (seed ${opts.seed})\n`);
        dataSkipped = splits.skipped;
        files = splits.test;
      } else {
        const scanned = await scanDataset(root);
        dataSkipped = scanned.skipped;
        files = scanned.items;
      }
      for (const s of dataSkipped) process.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
      if (files.length === 0) throw new SkywatchError('DATA_EMPTY', `no images to evaluate in ${root}`);
      const result = await evaluateDetailed({
        modelPath,
        input: manifest.input,
        outputName: manifest.output.name,
        labels: manifest.labels,
        files: files.map((f) => ({ path: path.join(root, f.path), label: f.label })),
        threads: config.inference.intraOpThreads,
        onProgress: opts.json ? undefined : (d, t) => process.stderr.write(`\revaluating ${d}/${t}`),
      });
      if (!opts.json) process.stderr.write('\n');
      if (opts.report) await writeFile(opts.report, renderReportHtml({ title: `Evaluation of ${manifest.version} on ${root}`, manifest, metrics: result.metrics, curves: result.curves, labels: manifest.labels }));
      const m = result.metrics;
      const gate = bars ? checkQuality(m, bars) : undefined;
      printResult(!!opts.json, { model: manifest.version, data: root, split: opts.split, metrics: m, skipped: [...dataSkipped, ...result.skipped], ...(gate ? { gate } : {}) }, () => {
        const labels = manifest.labels;
        const w = Math.max(8, ...labels.map((l) => l.length)) + 2;
        const lines = [`model ${manifest.version} on ${root} (${opts.split}): accuracy ${pct(m.accuracy)}, macro F1 ${pct(m.macroF1)}, ${m.count} images`, ''];
        lines.push(`${'label'.padEnd(w)}${'precision'.padStart(11)}${'recall'.padStart(9)}${'F1'.padStart(9)}${'ROC AUC'.padStart(9)}${'support'.padStart(9)}`);
        for (const l of labels) {
          const p = m.perLabel[l];
          lines.push(`${l.padEnd(w)}${pct(p.precision).padStart(11)}${pct(p.recall).padStart(9)}${pct(p.f1).padStart(9)}${m.rocAuc[l].toFixed(4).padStart(9)}${String(p.support).padStart(9)}`);
        }
        lines.push('', `confusion (rows true, columns predicted)`, `${''.padEnd(w)}${labels.map((l) => l.padStart(w)).join('')}`);
        m.confusion.forEach((row, i) => lines.push(`${labels[i].padEnd(w)}${row.map((c) => String(c).padStart(w)).join('')}`));
        if (result.skipped.length) lines.push('', `${result.skipped.length} images could not be read and were skipped`);
        if (opts.report) lines.push('', `report: ${opts.report}`);
        if (gate) lines.push('', formatGate(gate));
        return lines.join('\n');
      });
      exitOnGate(gate);
    });
}

interface EvalFlags {
  model: string;
  data: string;
  registry?: string;
  split: string;
  seed: number;
  report?: string;
  json?: boolean;
  check?: boolean;
  minAccuracy?: number;
  minMacroF1?: number;
  minRecall?: Record<string, number>;
  minPrecision?: Record<string, number>;
}

/** The bars to check, or undefined without --check; bars without --check are a mistake worth naming. */
export function barsOf(opts: Pick<EvalFlags, 'check' | 'minAccuracy' | 'minMacroF1' | 'minRecall' | 'minPrecision'>): QualityBars | undefined {
  const bars: QualityBars = {
    ...(opts.minAccuracy !== undefined ? { minAccuracy: opts.minAccuracy } : {}),
    ...(opts.minMacroF1 !== undefined ? { minMacroF1: opts.minMacroF1 } : {}),
    ...(opts.minRecall ? { minRecall: opts.minRecall } : {}),
    ...(opts.minPrecision ? { minPrecision: opts.minPrecision } : {}),
  };
  if (!opts.check) {
    if (Object.keys(bars).length > 0) throw new SkywatchError('BAD_REQUEST', '--min-* bars only apply with --check');
    return undefined;
  }
  if (Object.keys(bars).length === 0) throw new SkywatchError('BAD_REQUEST', '--check needs at least one bar (--min-accuracy, --min-macro-f1, --min-recall LABEL=X or --min-precision LABEL=X)');
  return bars;
}

export function exitOnGate(gate: GateResult | undefined): void {
  if (gate && !gate.passed) {
    process.stderr.write('quality gate failed\n');
    process.exitCode = GATE_FAILED_EXIT;
  }
}
