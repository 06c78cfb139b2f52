import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import compress from '@fastify/compress';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import { tokensConfigured, type Config } from '../core/config.js';
import { SkywatchError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { ModelRegistry } from '../core/model/registry.js';
import { openStore } from '../core/storage/open-store.js';
import { createProcessServices, type ProcessServices } from '../app/process-services.js';
import type { MicroBatcher } from '../inference/micro-batcher.js';
import type { ModelHolder } from '../inference/model-holder.js';
import { requireRole, type Guard } from './auth.js';
import { installErrorHandler } from './error-handler.js';
import type { ServerMetrics } from './metrics.js';
import { RateLimiter } from './rate-limiter.js';
import { installRequestGuards } from './request-guards.js';
import type { DriftMonitor } from '../drift/drift-monitor.js';
import { registerDriftMetrics } from '../drift/drift-metrics.js';
import { driftRoutes } from './routes/drift.js';
import { predictClipRoutes } from './routes/predict-clip.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { modelRoutes } from './routes/models.js';
import { predictRoutes } from './routes/predict.js';
import { sessionRoutes } from './routes/session.js';
import { whoamiRoutes } from './routes/whoami.js';
import { staticOptions } from './static-assets.js';

const DASHBOARD = fileURLToPath(new URL('./dist', import.meta.url));
export const SERVER_VERSION = '0.1.0';

export interface ServerDeps {
  config: Config;
  logger: Logger;
  /** Defaults to the configured registry. */
  registry?: ModelRegistry;
  /**
   * The process's one model holder, micro-batcher and metrics (app/process-services.ts), shared with
   * the other roles of the process. Without it the server makes its own and stops them on close (a
   * bare API, as tests build it).
   */
  services?: ProcessServices;
  /** A model holder made by the caller (tests), when no `services` are given: the server's own services use it. */
  holder?: ModelHolder;
  checks?: ReadinessCheck[];
  /** Route plugins of other parts (cameras, alerts), registered with the same guards. */
  plugins?: Array<(app: FastifyInstance, guards: Guards) => Promise<void>>;
  /** Route plugins that guard their routes with `requireRole(role)` from web/auth.ts. */
  extraPlugins?: Array<(app: FastifyInstance) => Promise<void>>;
  /** The live drift monitor (drift/drift-monitor.ts): adds GET /v1/drift, /v1/drift/report and drift gauges. */
  drift?: DriftMonitor;
}

export interface Guards {
  viewer: Guard;
  admin: Guard;
}

export interface SkywatchServer {
  app: FastifyInstance;
  holder: ModelHolder;
  metrics: ServerMetrics;
  batcher: MicroBatcher;
  services: ProcessServices;
  guards: Guards;
  host: string;
  listen(port?: number): Promise<string>;
  close(): Promise<void>;
}

/** The API: REST, OpenAPI docs, metrics, the dashboard's files, and whatever route plugins are given. */
export async function buildServer(deps: ServerDeps): Promise<SkywatchServer> {
  const { config, logger } = deps;
  const registry = deps.registry ?? new ModelRegistry(await openStore(config.registry, { gcsApiEndpoint: config.gcs.apiEndpoint, gcsProjectId: config.gcs.projectId }));
  const services = deps.services ?? createProcessServices({ config, logger, registry, holder: deps.holder });
  const ownsServices = !deps.services;
  const { holder, batcher, predictor, metrics } = services;
  const tokens = { viewerTokens: config.api.viewerTokens, adminTokens: config.api.adminTokens };
  const guards: Guards = { viewer: requireRole(tokens, 'viewer'), admin: requireRole(tokens, 'admin') };
  const limiter = new RateLimiter(config.api.rateLimitPerMinute);
  // Without tokens, nobody else may reach the server: loopback only.
  const host = tokensConfigured(config) ? config.api.host ?? '0.0.0.0' : '127.0.0.1';
  const { requestTimeoutMs, handlerTimeoutMs } = config.api;

  const app = Fastify({
    // A client must deliver its whole request within requestTimeoutMs (node checks every second, so
    // 300 slow bodies cannot each hold a connection and a buffer for minutes), and an idle connection
    // is closed after a while. Upgraded WebSockets are exempt: ws clears the socket timeout.
    serverFactory: (handler) => {
      const server = http.createServer({ requestTimeout: requestTimeoutMs, headersTimeout: Math.min(requestTimeoutMs, 10_000), connectionsCheckingInterval: 1_000, keepAliveTimeout: 5_000 }, handler);
      server.setTimeout(Math.max(requestTimeoutMs, handlerTimeoutMs) + 5_000);
      return server;
    },
    // Per-request lines would drown the log at hundreds of requests a second: fastify's own logger
    // only reports warnings. (pino's Logger and fastify's differ only in generics.)
    loggerInstance: logger.child({ part: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: config.api.bodyLimitBytes,
    return503OnClosing: true,
    // Errors fastify raises before routing (a malformed URL, an over-long path parameter) answer in
    // the one error shape too.
    frameworkErrors: (error, _request, reply) => {
      const err = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? new SkywatchError('URI_TOO_LONG', 'a path parameter is too long') : new SkywatchError('BAD_REQUEST', error.message);
      metrics.errors.inc({ code: err.code });
      // The hook's reply is typed with fastify's generic defaults; it is the plain reply underneath.
      void (reply as unknown as FastifyReply).status(err.status).send(err.toJSON());
    },
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
  });
  app.decorate('skywatchTokens', tokens);
  installErrorHandler(app, metrics);
  app.addHook('onRequest', async (request) => {
    if (!limiter.allow(request.ip)) throw new SkywatchError('RATE_LIMITED', `more than ${config.api.rateLimitPerMinute} requests a minute`);
  });
  installRequestGuards(app, { tokens, bindHost: host, allowedHosts: config.api.allowedHosts, allowedOrigins: config.api.allowedOrigins, handlerTimeoutMs });
  app.addContentTypeParser(/^image\/.*/, { parseAs: 'buffer', bodyLimit: config.api.bodyLimitBytes }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: config.api.bodyLimitBytes }, (_req, body, done) => done(null, body));
  // Non-file parts are refused by the predict routes as soon as they are seen; the field limits only
  // bound what the parser holds before that.
  await app.register(multipart, { limits: { fileSize: config.api.bodyLimitBytes, files: 64, fields: 4, fieldSize: 1024, parts: 68 } });
  await app.register(compress, { global: true, threshold: 1024, encodings: ['br', 'gzip'] });
  await app.register(websocket, {
    options: { maxPayload: 64 * 1024 },
    // A client that breaks the protocol (a message over maxPayload, bad frames, a dropped link) is
    // the client's problem, not the server's: a warning, not an error line per message.
    errorHandler: (error, socket, request) => {
      const code = (error as { code?: string }).code;
      if (code?.startsWith('WS_ERR_') || code === 'ECONNRESET' || code === 'EPIPE') request.log.warn({ code, message: error.message }, 'websocket client error; closed');
      else request.log.error({ err: error }, 'websocket handler failed');
      socket.terminate();
    },
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Skywatch API', version: SERVER_VERSION, description: 'Drone vs bird detection: predictions, models, cameras and alerts.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: tokensConfigured(config) ? [{ bearer: [] }] : [],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });

  await app.register(healthRoutes, { holder, metrics, checks: deps.checks ?? [], startedAt: new Date(), version: SERVER_VERSION, viewer: guards.viewer });
  await app.register(sessionRoutes, { tokens, ttlSeconds: config.api.sessionTtlSeconds });
  await app.register(predictRoutes, { predictor, metrics, viewer: guards.viewer, maxBatchImages: 64, maxRequestBytes: config.api.maxRequestBytes });
  await app.register(modelRoutes, { registry, holder, ...guards });
  await app.register(whoamiRoutes, { tokens });
  await app.register(predictClipRoutes, { holder, predictor, viewer: guards.viewer, limits: { maxBytes: config.api.clipMaxBytes, maxSeconds: config.api.clipMaxSeconds, maxFrames: config.api.clipMaxFrames, maxPixels: config.api.maxPixels } });
  if (deps.drift) {
    registerDriftMetrics(metrics.registry, deps.drift);
    await app.register(driftRoutes, { monitor: deps.drift, viewer: guards.viewer });
  }
  for (const plugin of deps.plugins ?? []) await app.register(async (scope) => plugin(scope, guards));
  for (const plugin of deps.extraPlugins ?? []) await app.register(plugin);
  if (existsSync(path.join(DASHBOARD, 'index.html'))) {
    await app.register(fastifyStatic, { root: DASHBOARD, prefix: '/', index: ['index.html'], wildcard: false, ...staticOptions() });
  } else {
    app.get('/', async (_req, reply) => reply.type('text/plain').send('Skywatch API. The dashboard is not built: run `npm run build`. API docs: /docs\n'));
  }

  if (!tokensConfigured(config) && config.api.host && config.api.host !== '127.0.0.1') {
    logger.warn({ requested: config.api.host }, 'no API tokens configured: binding 127.0.0.1 only (set SKYWATCH_VIEWER_TOKENS / SKYWATCH_ADMIN_TOKENS to listen elsewhere)');
  }
  let closed = false;
  return {
    app,
    holder,
    metrics,
    batcher,
    services,
    guards,
    host,
    async listen(port = config.api.port) {
      services.start();
      const address = await app.listen({ port, host });
      logger.info({ address, tokens: tokensConfigured(config) }, `Skywatch API listening on ${address}${tokensConfigured(config) ? '' : ' (no tokens configured: loopback only)'}`);
      return address;
    },
    async close() {
      if (closed) return;
      closed = true;
      // Connections that finish their request while we close would otherwise idle on keep-alive for
      // a minute and hold the close open: keep closing idle ones until the server is down.
      const sweep = setInterval(() => app.server.closeIdleConnections?.(), 100);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
      if (ownsServices) await services.stop();
    },
  };
}
