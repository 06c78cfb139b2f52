import type { Command } from 'commander';
import { printResult, type CliContext } from '../context.js';
import { openRegistry, withRegistryOption } from './registry-option.js';

const pct = (x: number | null | undefined) => (typeof x === 'number' ? `${(x * 100).toFixed(2)}%` : '–');

export function registerModelCommands(program: Command, ctx: CliContext): void {
  const model = program.command('model').summary('list, show, promote and roll back registry versions').description('The model registry: versions, which one is latest (served by workers), and moving that pointer.');

  withRegistryOption(model.command('list').description('every version, newest first, with its test accuracy and status'))
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { registry?: string; json?: boolean }) => {
      const models = await (await openRegistry(ctx, opts.registry)).list();
      printResult(!!opts.json, { models }, () =>
        models.length === 0 ? 'no models in the registry yet (run: skywatch train --publish)' : models.map((m) => `${m.isLatest ? '*' : ' '} ${m.version.padEnd(24)} ${pct(m.accuracy).padStart(8)}  ${m.status.padEnd(9)} ${m.created}`).join('\n'));
    });

  withRegistryOption(model.command('show').argument('<version>', 'a version or "latest"').description("a version's manifest: labels, input, metrics, data set, training settings"))
    .option('--json', 'one JSON document on stdout')
    .action(async (version: string, opts: { registry?: string; json?: boolean }) => {
      const shown = await (await openRegistry(ctx, opts.registry)).show(version);
      const m = shown.manifest;
      printResult(!!opts.json, shown, () => [
        `version   ${m.version}${shown.isLatest ? ' (latest)' : ''}`,
        `created   ${m.created}`,
        `labels    ${m.labels.join(', ')}`,
        `input     ${m.input.width}x${m.input.height} ${m.input.channelOrder} mean ${m.input.mean.join('/')} std ${m.input.std.join('/')}`,
        `accuracy  ${pct(m.metrics?.accuracy)}   macro F1 ${pct(m.metrics?.macroF1)}`,
        `parent    ${m.parent ?? '–'}`,
        `files     ${shown.files.join(', ')}`,
      ].join('\n'));
    });

  withRegistryOption(model.command('promote').argument('<version>').description('make a version latest; workers pick it up on their next poll'))
    .option('--json', 'one JSON document on stdout')
    .action(async (version: string, opts: { registry?: string; json?: boolean }) => {
      const decision = await (await openRegistry(ctx, opts.registry)).promote(version);
      printResult(!!opts.json, decision, () => `latest is now ${decision.version} (was ${decision.previous ?? 'none'})`);
    });

  withRegistryOption(model.command('rollback').description('make the previous latest version latest again'))
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { registry?: string; json?: boolean }) => {
      const decision = await (await openRegistry(ctx, opts.registry)).rollback();
      printResult(!!opts.json, decision, () => `rolled back: latest is now ${decision.version} (was ${decision.previous})`);
    });
}
