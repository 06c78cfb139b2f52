import type { Command } from 'commander';
import { FeedbackStore } from '../../review/feedback-store.js';
import { printResult, type CliContext } from '../context.js';
import { openRegistry } from './registry-option.js';

/** `skywatch data feedback`: the operators' judged alerts kept in the registry's store. */
export function registerFeedbackCommand(data: Command, ctx: CliContext): void {
  data.command('feedback')
    .description('list the feedback data set (judged alerts, their crops and labels) in the registry\'s store, or export it as a data set folder; the periodic trainer adds it to training (never to the test split)')
    .option('--registry <dir|gs://...>', 'model registry whose store holds feedback/ (default: config registry)')
    .option('--export <dir>', 'write <dir>/<label>/*.png and <dir>/index.jsonl')
    .option('--all', 'list every verdict, not only the latest of each alert')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { registry?: string; export?: string; all?: boolean; json?: boolean }) => {
      const registry = await openRegistry(ctx, opts.registry);
      const feedback = new FeedbackStore(registry.store);
      const entries = opts.all ? await feedback.entries() : [...(await feedback.current()).values()];
      const counts: Record<string, number> = {};
      for (const e of entries) counts[e.label] = (counts[e.label] ?? 0) + e.files.length;
      const exported = opts.export ? await feedback.export(opts.export) : undefined;
      printResult(!!opts.json, { store: registry.store.url, entries, counts, ...(exported ? { exported: { dir: opts.export, counts: exported } } : {}) }, () => {
        const lines = [`${entries.length} judged alerts in ${registry.store.url}/feedback (crops per label: ${Object.entries(counts).map(([l, n]) => `${l} ${n}`).join(', ') || 'none'})`];
        for (const e of entries) lines.push(`  ${new Date(e.at).toISOString()}  ${e.alertId.padEnd(16)} ${e.cameraId.padEnd(16)} ${e.alertLabel} -> ${e.label.padEnd(10)} ${e.action.padEnd(11)} by ${e.by}  ${e.files.length} crop(s)`);
        if (exported) lines.push(`exported to ${opts.export}: ${Object.entries(exported).map(([l, n]) => `${l} ${n}`).join(', ') || 'nothing'}`);
        return lines.join('\n');
      });
    });
}
