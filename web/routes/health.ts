import type { FastifyInstance } from 'fastify';
import { errorBody } from '../../core/errors.js';
import type { Guard } from '../auth.js';
import type { ModelHolder } from '../../inference/model-holder.js';
import type { ServerMetrics } from '../metrics.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

/** How long one readiness check may take before it counts as down. */
export const READY_CHECK_MS = 2_000;

/** The promise's value, or false when it has not settled within `ms`. */
export function withinMs(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]).finally(() => clearTimeout(timer));
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

  app.get('/ready', { config: { handlerTimeoutMs: READY_CHECK_MS + 3_000 }, schema: { summary: 'Readiness: a model is loaded and dependencies answer', tags: ['health'] } }, async (_request, reply) => {
    const results: Record<string, boolean> = { model: holder.current?.model.healthy ?? false };
    // A dependency that does not answer in time is down: a client (ioredis) that queues commands
    // while disconnected would otherwise hold /ready open for the whole outage.
    const answers = await Promise.all(options.checks.map((c) => withinMs(c.check(), READY_CHECK_MS).catch(() => false)));
    options.checks.forEach((c, i) => (results[c.name] = answers[i]));
    const ready = Object.values(results).every(Boolean);
    if (ready) return reply.status(200).send({ ready, checks: results });
    const down = options.checks.filter((c) => !results[c.name]).map((c) => c.name);
    const body = down.length
      ? errorBody('DEPENDENCY_UNAVAILABLE', `not answering: ${down.join(', ')}`, { checks: results })
      : errorBody('NO_MODEL', 'no healthy model is loaded', { checks: results });
    return reply.status(503).send({ ready, checks: results, ...body });
  });

  app.get('/v1/info', { onRequest: options.viewer, schema: { summary: 'Server version, uptime and the model being served', tags: ['health'] } }, async () => ({
    name: 'skywatch',
    version: options.version,
    uptimeSeconds: Math.round((Date.now() - options.startedAt.getTime()) / 1000),
    model: holder.current ? { version: holder.current.version, loadedAt: holder.current.loadedAt.toISOString() } : null,
    manifest: holder.current?.manifest ?? null,
  }));

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  app.get('/v1/metrics/summary', { onRequest: options.viewer, schema: { summary: 'A small JSON summary of the metrics, for the dashboard', tags: ['health'] } }, async () => metrics.summary());
}
