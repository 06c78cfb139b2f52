import type { FastifyInstance } from 'fastify';
import type { Guard } from '../auth.js';
import { SkywatchError, isSkywatchError } from '../../core/errors.js';
import type { ModelManifest } from '../../core/model/manifest.js';
import type { ModelRegistry } from '../../core/model/registry.js';
import { OnnxModel } from '../../inference/onnx-model.js';
import type { ModelHolder } from '../../inference/model-holder.js';

interface Guards {
  viewer: Guard;
  admin: Guard;
}

const versionParam = { type: 'object', required: ['version'], properties: { version: { type: 'string', pattern: '^(?!\\.{1,2}$)(latest|[A-Za-z0-9._-]{1,80})$' } } } as const;

/** ONNX Runtime must open a version and run a batch of its input size before latest.json names it. */
async function loadsInOnnxRuntime(modelPath: string, manifest: ModelManifest): Promise<void> {
  const model = await OnnxModel.load(modelPath, manifest, { intraOpThreads: 1, interOpThreads: 1 });
  try {
    await model.warmup(1);
  } catch (err) {
    if (isSkywatchError(err)) throw err;
    throw new SkywatchError('MODEL_INVALID', `model ${manifest.version} failed a test run: ${(err as Error).message}`, { version: manifest.version });
  } finally {
    await model.release();
  }
}

/**
 * Loads what latest.json names now. A poll that started before the pointer moved may be in flight, and
 * reload() joins it: when it did not bring the new version, one more check (started after it) does.
 */
async function reloadAfterMove(holder: ModelHolder, version: string): Promise<void> {
  await holder.reload(true);
  if (holder.current?.version !== version) await holder.reload(true);
}

/** The registry over HTTP: listing, manifests, reports, promote, roll back and a forced reload. */
export async function modelRoutes(app: FastifyInstance, options: { registry: ModelRegistry; holder: ModelHolder } & Guards): Promise<void> {
  const { registry, holder } = options;

  app.get('/v1/models', { onRequest: options.viewer, schema: { summary: 'Registry versions, newest first', tags: ['models'] } }, async () => ({
    models: await registry.list(),
    serving: holder.current?.version ?? null,
  }));

  app.get('/v1/models/:version', { onRequest: options.viewer, schema: { summary: "A version's manifest", tags: ['models'], params: versionParam } }, async (request) => {
    const { version } = request.params as { version: string };
    return registry.resolve(version);
  });

  app.get('/v1/models/:version/report.html', { onRequest: options.viewer, schema: { summary: "A version's training report", tags: ['models'], params: versionParam } }, async (request, reply) => {
    const { version } = request.params as { version: string };
    const html = await registry.readReport(version);
    return reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:").send(html);
  });

  // Promote, rollback and reload load a model (perhaps from remote storage): they get more time.
  app.post('/v1/models/:version/promote', { onRequest: options.admin, config: { handlerTimeoutMs: 120_000 }, schema: { summary: 'Make a version latest (workers follow on their next poll)', tags: ['models'], params: versionParam } }, async (request) => {
    const { version } = request.params as { version: string };
    const decision = await registry.promote(version, loadsInOnnxRuntime);
    await reloadAfterMove(holder, decision.version);
    return { ...decision, serving: holder.current?.version ?? null };
  });

  app.post('/v1/models/rollback', { onRequest: options.admin, config: { handlerTimeoutMs: 120_000 }, schema: { summary: 'Make the previous latest version latest again', tags: ['models'] } }, async () => {
    const decision = await registry.rollback(loadsInOnnxRuntime);
    await reloadAfterMove(holder, decision.version);
    return { ...decision, serving: holder.current?.version ?? null };
  });

  app.post('/v1/models/reload', { onRequest: options.admin, config: { handlerTimeoutMs: 120_000 }, schema: { summary: 'Check the registry for a new latest model now', tags: ['models'] } }, async () => {
    const outcome = await holder.reload(true);
    return { outcome, serving: holder.current?.version ?? null, error: outcome === 'failed' ? holder.lastError : null };
  });
}
