import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { resolveLocal } from '../../core/config.js';
import { SkywatchError } from '../../core/errors.js';
import { readLocalModel } from '../../core/model/registry.js';
import { loadDriftBaseline } from '../../drift/baseline-store.js';
import { parseDriftBaseline, type DriftBaseline } from '../../drift/drift-baseline.js';
import { driftReportHtml } from '../../drift/drift-report-html.js';
import { driftOfFolder } from '../../drift/offline-drift.js';
import { GATE_FAILED_EXIT } from '../../trainer/eval/quality-gate.js';
import { printResult, type CliContext } from '../context.js';
import { openRegistry, withRegistryOption } from './registry-option.js';

export function registerDriftCommand(program: Command, ctx: CliContext): void {
  withRegistryOption(program.command('drift'))
    .summary('compare a folder of images with what the model saw at training (data drift)')
    .description('Computes brightness, contrast, sharpness, saturation, object size, the model\'s scores (and the backbone embedding when the baseline has it) for every image under --data, and compares their distributions with the model\'s training baseline (models/<version>/drift-baseline.json): PSI and KS per feature, thresholds from config drift.*.')
    .requiredOption('--data <dir>', 'folder of images (label subfolders or not)')
    .option('--model <version|latest|file.onnx>', 'model whose baseline to compare with', 'latest')
    .option('--baseline <file.json>', 'baseline file (default: the model\'s own)')
    .option('--report <file.html>', 'write the HTML report with the distributions')
    .option('--max-files <n>', 'compare an even sample of at most n images', (v) => Number.parseInt(v, 10))
    .option('--check', `exit with status ${GATE_FAILED_EXIT} when the folder drifted`)
    .option('--json', 'one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  skywatch drift --data ../shared/data/images/valid --report drift.html\n  skywatch drift --data night-frames/ --check\n')
    .action(async (opts: { data: string; model: string; registry?: string; baseline?: string; report?: string; maxFiles?: number; check?: boolean; json?: boolean }) => {
      const config = ctx.config();
      const local = opts.model.endsWith('.onnx');
      const registry = local ? undefined : await openRegistry(ctx, opts.registry);
      const { modelPath, manifest } = local ? await readLocalModel(path.resolve(opts.model)) : await registry!.fetch(opts.model, path.join(config.stateDir, 'cache', 'models'));
      let baseline: DriftBaseline | null;
      const baselineFile = opts.baseline ?? (local ? path.join(path.dirname(path.resolve(opts.model)), 'drift-baseline.json') : undefined);
      if (baselineFile) {
        const raw = await readFile(baselineFile).catch(() => {
          throw new SkywatchError('NOT_FOUND', `no drift baseline at ${baselineFile}`);
        });
        try {
          baseline = parseDriftBaseline(raw);
        } catch (err) {
          throw new SkywatchError('DATA_INVALID', `${baselineFile} is not a drift baseline: ${(err as Error).message}`);
        }
      } else baseline = await loadDriftBaseline(registry!, manifest.version);
      if (!baseline) throw new SkywatchError('NOT_FOUND', `model ${manifest.version} was published without a drift baseline (retrain, or pass --baseline)`);
      const d = config.drift;
      const out = await driftOfFolder({
        dir: path.resolve(opts.data), modelPath, manifest, baseline,
        thresholds: { method: d.method, psiThreshold: d.psiThreshold, ksPValue: d.ksPValue, minDriftedFeatures: d.minDriftedFeatures, includeScores: d.includeScores, minEffect: d.minEffect },
        backbonePath: resolveLocal(config.trainer.backbone), cacheDir: path.join(config.stateDir, 'cache'), ...(opts.maxFiles ? { maxFiles: opts.maxFiles } : {}),
      });
      if (opts.report) await writeFile(opts.report, driftReportHtml({ title: `Drift of ${out.data}`, model: manifest.version, baselineSource: baseline.source, baselineCount: baseline.count, sections: [{ name: out.data, result: out.result }] }));
      const r = out.result;
      printResult(!!opts.json, out, () => [
        `${out.data}: ${out.files} images against model ${out.model}'s baseline (${baseline.count} samples): ${r.drifted ? `DRIFTED (${r.driftedFeatures.join(', ')})` : 'no drift'}`,
        '',
        `${'feature'.padEnd(20)}${'baseline'.padStart(10)}${'current'.padStart(10)}${'PSI'.padStart(8)}${'KS'.padStart(7)}${'p-value'.padStart(10)}`,
        ...r.features.map((f) => `${(f.drifted ? '* ' : '  ') + f.name.padEnd(18)}${f.baselineMean.toFixed(3).padStart(10)}${f.currentMean.toFixed(3).padStart(10)}${f.psi.toFixed(3).padStart(8)}${f.ks.toFixed(3).padStart(7)}${f.pValue.toExponential(1).padStart(10)}`),
        '',
        `predicted labels: ${Object.entries(r.predicted.current).map(([l, s]) => `${l} ${(s * 100).toFixed(0)}%`).join(', ')} (baseline ${Object.entries(r.predicted.baseline).map(([l, s]) => `${l} ${(s * 100).toFixed(0)}%`).join(', ')})`,
        ...(out.skipped.length ? [`${out.skipped.length} unreadable images skipped`] : []),
        ...(opts.report ? [`report: ${opts.report}`] : []),
      ].join('\n'));
      if (opts.check && r.drifted) process.exitCode = GATE_FAILED_EXIT;
    });
}
