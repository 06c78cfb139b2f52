import type { FastifyInstance } from 'fastify';
import type { Guard } from '../auth.js';
import type { ModelHolder } from '../../inference/model-holder.js';
import type { ServerMetrics } from '../metrics.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

/** Liveness, readiness (model loaded, dependencies reachable), info, Prometheus and the JSON summary. */
export async function healthRoutes(app: FastifyInstance, options: { holder: ModelHolder; metrics: ServerMetrics; checks: ReadinessCheck[]; startedAt: Date; version: string; viewer: Guard }): Promise<void> {
  const { holder, metrics } = options;

  app.get('/health', { schema: { summary: 'Liveness: the process answers', tags: ['health'] } }, async () => ({
    status: 'ok',
    model: holder.current?.version ?? null,
    ...(holder.current ? {} : { warning: 'no model loaded: predictions answer 503 until one is published' }),
    lastReloadError: holder.lastError,
  }));

  app.get('/ready', { schema: { summary: 'Readiness: a model is loaded and dependencies answer', tags: ['health'] } }, async (_request, reply) => {
    const results: Record<string, boolean> = { model: holder.current?.model.healthy ?? false };
    for (const c of options.checks) results[c.name] = await c.check().catch(() => false);
    const ready = Object.values(results).every(Boolean);
    return reply.status(ready ? 200 : 503).send({ ready, checks: results });
  });

  app.get('/v1/info', { preHandler: options.viewer, schema: { summary: 'Server version, uptime and the model being served', tags: ['health'] } }, async () => ({
    name: 'skywatch',
    version: options.version,
    uptimeSeconds: Math.round((Date.now() - options.startedAt.getTime()) / 1000),
    model: holder.current ? { version: holder.current.version, loadedAt: holder.current.loadedAt.toISOString() } : null,
    manifest: holder.current?.manifest ?? null,
  }));

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  app.get('/v1/metrics/summary', { preHandler: options.viewer, schema: { summary: 'A small JSON summary of the metrics, for the dashboard', tags: ['health'] } }, async () => metrics.summary());
}
