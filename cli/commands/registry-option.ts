import type { Command } from 'commander';
import { ModelRegistry } from '../../core/model/registry.js';
import { openStore } from '../../core/storage/open-store.js';
import type { CliContext } from '../context.js';

/** Every registry command takes --registry (default from config) and opens it the same way. */
export function withRegistryOption(cmd: Command): Command {
  return cmd.option('--registry <dir|gs://...>', 'model registry (default: config registry)');
}

export async function openRegistry(ctx: CliContext, flag?: string): Promise<ModelRegistry> {
  const config = ctx.config();
  return new ModelRegistry(await openStore(flag ?? config.registry, { gcsApiEndpoint: config.gcs.apiEndpoint, gcsProjectId: config.gcs.projectId }));
}
