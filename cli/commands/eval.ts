import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { SkywatchError } from '../../core/errors.js';
import { photoManifest } from '../../core/model/manifest.js';
import { readLocalModel } from '../../core/model/registry.js';
import { scanDataset, type SkippedFile } from '../../trainer/data/scan.js';
import { loadSplits } from '../../trainer/data/splits.js';
import { evaluateDetailed } from '../../trainer/eval/evaluate.js';
import { checkQuality, formatGate, GATE_FAILED_EXIT, parseBar, parseLabelBar, type GateResult, type QualityBars } from '../../trainer/eval/quality-gate.js';
import { renderReportHtml } from '../../trainer/eval/report.js';
import { printResult, type CliContext } from '../context.js';
import { evaluateClips, formatClipEvaluation, listLabelledClips } from '../../trainer/eval/clip-eval.js';
import { predictClipUpload } from '../../inference/clip-upload.js';
import { openLocalServing } from './local-serving.js';
import { openRegistry, withRegistryOption } from './registry-option.js';

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function registerEvalCommand(program: Command, ctx: CliContext): void {
  withRegistryOption(program.command('eval'))
    .summary('evaluate any model on any labelled folder')
    .description('Runs a model (a registry version, "latest", or a model.onnx with manifest.json beside it) over every image of a labelled folder (or its test split) and prints accuracy, precision/recall/F1 per label, the confusion matrix and ROC AUC.')
    .requiredOption('--model <version|latest|file.onnx>', 'which model')
    .option('--data <dir>', 'folder of images with one subfolder per label')
    .option('--clips <dir>', 'instead of --data: folder of clips with one subfolder per label, each run through the camera pipeline (clip-level detection, time to detection)')
    .option('--fps <n>', 'with --clips: frames per second sampled (default the model\'s)', (v) => Number(v))
    .option('--split <which>', '"all" images, or only the "test" split', 'all')
    .option('--seed <n>', 'seed of the splits made on the fly when the folder has no splits files (--split test)', (v) => Number.parseInt(v, 10), 42)
    .option('--crop-model', 'with --data: score the crop model alone, not the answer /v1/predict gives photographs (the crop model and the version\'s photo model combined, when it has one)')
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
      if (opts.clips) {
        if (opts.data) throw new SkywatchError('BAD_REQUEST', 'give --data (images) or --clips (videos), not both');
        await evalClips(ctx, opts, bars);
        return;
      }
      if (!opts.data) throw new SkywatchError('BAD_REQUEST', 'give --data DIR (images) or --clips DIR (videos)');
      const data = opts.data;
      const config = ctx.config();
      const { modelPath, manifest } = opts.model.endsWith('.onnx')
        ? await readLocalModel(path.resolve(opts.model))
        : await (await openRegistry(ctx, opts.registry)).fetch(opts.model, path.join(config.stateDir, 'cache', 'models'));
      const root = path.resolve(data);
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
      // Photographs are answered as /v1/predict answers them: with the version's photo model when it has one.
      const photoSpec = opts.cropModel ? null : photoManifest(manifest);
      const photo = photoSpec && manifest.photo ? { modelPath: path.join(path.dirname(modelPath), manifest.photo.file), manifest: photoSpec, gate: manifest.photo.gate } : undefined;
      const result = await evaluateDetailed({
        modelPath,
        photo,
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
      const answeredBy = photo ? 'crop model + photo model, as /v1/predict answers' : 'crop model';
      printResult(!!opts.json, { model: manifest.version, data: root, split: opts.split, answeredBy, metrics: m, skipped: [...dataSkipped, ...result.skipped], ...(gate ? { gate } : {}) }, () => {
        const labels = manifest.labels;
        const w = Math.max(8, ...labels.map((l) => l.length)) + 2;
        const lines = [`model ${manifest.version} on ${root} (${opts.split}), answered by the ${answeredBy}: accuracy ${pct(m.accuracy)}, macro F1 ${pct(m.macroF1)}, ${m.count} images`, ''];
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
  cropModel?: boolean;
  data?: string;
  clips?: string;
  fps?: number;
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

async function evalClips(ctx: CliContext, opts: EvalFlags, bars: QualityBars | undefined): Promise<void> {
  const root = path.resolve(opts.clips!);
  const clips = await listLabelledClips(root);
  const config = ctx.config();
  const serving = await openLocalServing(ctx, opts.registry, opts.model);
  const limits = { maxBytes: Number.MAX_SAFE_INTEGER, maxSeconds: Number.MAX_VALUE, maxFrames: Number.MAX_SAFE_INTEGER, maxPixels: config.api.maxPixels };
  const model = serving.holder.current?.version ?? opts.model;
  let result;
  try {
    result = await evaluateClips(clips, async (file) => predictClipUpload(await readFile(file), serving, limits, opts.fps ? { fps: opts.fps } : {}).then((a) => ({ ...a, events: [] })), {
      onClip: opts.json ? undefined : (c, done, total) => process.stderr.write(`\r${done}/${total} clips (${path.basename(c.file)}: ${c.error ? 'error' : c.drone ? 'drone' : 'no drone'})      `),
    });
  } finally {
    await serving.close();
  }
  if (!opts.json) process.stderr.write('\n');
  const gate = bars ? checkQuality(result, bars) : undefined;
  printResult(!!opts.json, { model, folder: root, ...result, ...(gate ? { gate } : {}) }, () => `${formatClipEvaluation(result, model)}${gate ? `\n\n${formatGate(gate)}` : ''}`);
  exitOnGate(gate);
}
