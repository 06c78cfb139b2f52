import Fastify, { type FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ReadinessCheck } from './routes/health.js';

/**
 * What a role without the API (ingest, worker) still serves: /health, /ready and /metrics, on loopback
 * unless a host is given, so probes and Prometheus see every process.
 */
export async function startRoleHealthServer(options: { host: string; port: number; checks: ReadinessCheck[]; register?: (registry: Registry) => void; /** The process's registry (with its inference metrics); a fresh one by default. */ registry?: Registry; onError?: (err: Error) => void }): Promise<{ app: FastifyInstance; registry: Registry } | null> {
  const registry = options.registry ?? new Registry();
  if (!options.registry) collectDefaultMetrics({ register: registry, prefix: 'skywatch_' });
  options.register?.(registry);
  const app = Fastify({ logger: false });
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) => {
    const checks: Record<string, boolean> = {};
    for (const c of options.checks) checks[c.name] = await c.check().catch(() => false);
    const ready = Object.values(checks).every(Boolean);
    return reply.status(ready ? 200 : 503).send({ ready, checks });
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    // A taken port must not stop the role itself (several workers on one host): it runs unprobed.
    options.onError?.(err as Error);
    await app.close();
    return null;
  }
  return { app, registry };
}
