import { InvalidArgumentError, type Command } from 'commander';
import { SkywatchError } from '../../core/errors.js';
import { openStore } from '../../core/storage/open-store.js';
import { syncFolderToStore } from '../../core/storage/sync.js';
import { scanDataset } from '../../trainer/data/scan.js';
import { hasSplits, makeSplits, writeSplits, splitGrouping } from '../../trainer/data/splits.js';
import { datasetStats } from '../../trainer/data/stats.js';
import { printResult, type CliContext } from '../context.js';
import { registerFeedbackCommand } from './data-feedback.js';
import { registerFromVideosCommand } from './data-from-videos.js';

function ratios(value: string): [number, number, number] {
  const parts = value.split(',').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0) || Math.abs(parts.reduce((a, b) => a + b, 0) - 1) > 1e-6) {
    throw new InvalidArgumentError('expected three non-negative numbers that sum to 1, e.g. 0.7,0.15,0.15');
  }
  return parts as [number, number, number];
}

export function registerDataCommands(program: Command, ctx: CliContext): void {
  const data = program.command('data').summary('prepare data sets: split, stats, from-videos, sync').description('Data sets are folders with one subfolder per label and splits/{train,val,test}_files.txt of relative paths.');

  data.command('split')
    .argument('<dir>', 'data set folder (one subfolder per label)')
    .description('write seeded, stratified splits (crops from one clip stay in one split when sources.json is present; otherwise a photograph and its horizontally flipped copy, found from pixels)')
    .option('--seed <n>', 'random seed', (v) => Number.parseInt(v, 10), 42)
    .option('--ratios <train,val,test>', 'split shares', ratios, [0.7, 0.15, 0.15] as [number, number, number])
    .option('--force', 'overwrite existing splits files')
    .option('--json', 'one JSON document on stdout')
    .action(async (dir: string, opts: { seed: number; ratios: [number, number, number]; force?: boolean; json?: boolean }) => {
      if (hasSplits(dir) && !opts.force) throw new SkywatchError('BAD_REQUEST', `${dir}/splits already exists (use --force to overwrite)`);
      const scanned = await scanDataset(dir);
      for (const s of scanned.skipped) process.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
      if (scanned.items.length === 0) throw new SkywatchError('DATA_EMPTY', `no readable images in ${dir}`);
      const splits = makeSplits(scanned.items, { seed: opts.seed, ratios: opts.ratios, groupOf: await splitGrouping(dir, scanned.items) });
      await writeSplits(dir, splits);
      const counts = Object.fromEntries(Object.entries(splits).map(([k, v]) => [k, v.length]));
      printResult(!!opts.json, { dir, seed: opts.seed, counts, skipped: scanned.skipped }, () => `wrote ${dir}/splits: train ${counts.train}, val ${counts.val}, test ${counts.test} (seed ${opts.seed}, ${scanned.skipped.length} files skipped)`);
    });

  data.command('stats')
    .argument('<dir>', 'data set folder')
    .description('counts per label and split, image sizes, exact duplicates (and leaks across splits), fingerprint')
    .option('--json', 'one JSON document on stdout')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const s = await datasetStats(dir);
      printResult(!!opts.json, s, () => {
        const lines = [`${s.root}: ${s.total} images, labels ${s.labels.join(', ')}`];
        for (const l of s.labels) lines.push(`  ${l.padEnd(12)} ${String(s.counts[l]).padStart(6)}${s.splitCounts ? `   train ${s.splitCounts.train[l] ?? 0} / val ${s.splitCounts.val[l] ?? 0} / test ${s.splitCounts.test[l] ?? 0}` : ''}`);
        if (!s.splitCounts) lines.push('  no splits files (training makes seeded splits on the fly; `skywatch data split` writes them)');
        if (s.total === 0) lines.push('sizes: no readable images');
        else {
          lines.push(`sizes: ${s.sizes.minWidth}-${s.sizes.maxWidth} x ${s.sizes.minHeight}-${s.sizes.maxHeight}, most common ${s.sizes.mostCommon} (${s.sizes.distinct} distinct)`);
          for (const h of s.sizes.histogram.slice(0, 5)) lines.push(`  ${h.size.padEnd(12)} ${String(h.count).padStart(6)}`);
        }
        lines.push(`duplicates: ${s.duplicates.length} groups${s.duplicates.some((d) => d.acrossSplits) ? `, ${s.duplicates.filter((d) => d.acrossSplits).length} across splits (leakage!)` : ''}`);
        for (const d of s.duplicates.slice(0, 10)) lines.push(`  ${d.paths.join(' = ')}${d.acrossSplits ? '  [across splits]' : ''}`);
        for (const k of s.skipped) lines.push(`skipped ${k.path}: ${k.reason}`);
        lines.push(`fingerprint: ${s.fingerprint}`);
        return lines.join('\n');
      });
    });

  registerFromVideosCommand(data, ctx);
  registerFeedbackCommand(data, ctx);

  data.command('sync')
    .argument('<dir>', 'local data set folder')
    .requiredOption('--to <gs://bucket/prefix|dir>', 'destination (the data bucket)')
    .description('upload new and changed files, like gsutil rsync -r (with --delete, remove files gone locally)')
    .option('--delete', 'delete destination files that no longer exist locally')
    .option('--dry-run', 'say what would change, change nothing')
    .option('--json', 'one JSON document on stdout')
    .action(async (dir: string, opts: { to: string; delete?: boolean; dryRun?: boolean; json?: boolean }) => {
      const config = ctx.config();
      const store = await openStore(opts.to, { gcsApiEndpoint: config.gcs.apiEndpoint, gcsProjectId: config.gcs.projectId });
      const result = await syncFolderToStore(dir, store, {
        delete: opts.delete,
        dryRun: opts.dryRun,
        onProgress: opts.json ? undefined : (p) => process.stderr.write(`\r${p.done}/${p.total} ${p.action} ${p.key}`.padEnd(80).slice(0, 100)),
      });
      if (!opts.json) process.stderr.write('\n');
      printResult(!!opts.json, result, () => `${opts.dryRun ? '(dry run) ' : ''}uploaded ${result.uploaded}, unchanged ${result.unchanged}, deleted ${result.deleted} -> ${store.url}`);
    });
}
