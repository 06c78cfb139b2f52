import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { SkywatchError } from '../core/errors.js';
import { requestRole, tokensSet, type TokenSettings } from './auth.js';

export interface RequestGuardSettings {
  tokens: TokenSettings;
  /** The address the server binds. */
  bindHost: string;
  /** Extra Host names to accept (a DNS name, a reverse proxy's name). */
  allowedHosts: string[];
  /** Extra origins allowed to send mutations and open the WebSocket. */
  allowedOrigins: string[];
  /** Longest time a /v1 route, /ready or /metrics may take before it answers 503. */
  handlerTimeoutMs: number;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]', '::1'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** /v1 routes that answer without credentials: the session exchange, and who the caller is. */
const PUBLIC_V1 = ['/v1/session', '/v1/whoami'];

/** The host name of a Host header without its port, lower case; null when malformed. */
export function hostnameOf(host: string | undefined): string | null {
  if (!host) return null;
  const h = host.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(h);
  return m ? m[1] : null;
}

/** scheme://host:port of an origin, normalised; null for `null` and anything unparseable. */
function normaliseOrigin(origin: string): string | null {
  try {
    const u = new URL(origin);
    return u.origin === 'null' ? null : u.origin;
  } catch {
    return null;
  }
}

/**
 * Request checks that run before anything else reads the request:
 * - Host: without tokens the API is for this machine only, and a page on another site can make the
 *   browser send requests to 127.0.0.1 under the attacker's own name (DNS rebinding). Only loopback
 *   names, the bind address and `api.allowedHosts` are accepted. With tokens and no list, any Host.
 * - Origin: a browser request from another site (its Origin differs from the Host it was sent to and
 *   is not in `api.allowedOrigins`) may read nothing and change nothing: refused on every method but
 *   GET/HEAD/OPTIONS, and on the WebSocket upgrade.
 * - Credentials, with tokens: every /v1 route except the session exchange and whoami needs a valid token or
 *   session before its body is read (the routes' own guards then check the role).
 */
export function installRequestGuards(app: FastifyInstance, settings: RequestGuardSettings): void {
  const withTokens = tokensSet(settings.tokens);
  const bind = hostnameOf(settings.bindHost.includes(':') && !settings.bindHost.startsWith('[') ? `[${settings.bindHost}]` : settings.bindHost);
  const hosts = new Set([...LOOPBACK_NAMES, ...(bind && bind !== '0.0.0.0' && bind !== '[::]' ? [bind] : []), ...settings.allowedHosts.map((h) => hostnameOf(h) ?? h.toLowerCase())]);
  const checkHosts = !withTokens || settings.allowedHosts.length > 0;
  const origins = new Set(settings.allowedOrigins.map(normaliseOrigin).filter((o): o is string => o !== null));

  app.addHook('onRequest', async (request) => {
    if (checkHosts) {
      const name = hostnameOf(request.headers.host);
      if (!name || !hosts.has(name)) throw new SkywatchError('HOST_NOT_ALLOWED', 'this server does not answer to that Host name (api.allowedHosts)');
    }
    const upgrade = (request.headers.upgrade ?? '').toLowerCase() === 'websocket';
    if (!SAFE_METHODS.has(request.method) || upgrade) checkOrigin(request, origins);
    if (withTokens && request.url.startsWith('/v1/') && !PUBLIC_V1.some((p) => request.url === p || request.url.startsWith(`${p}?`))) {
      const { role, presented } = requestRole(settings.tokens, request);
      if (!role) throw new SkywatchError('UNAUTHORIZED', presented ? 'this token or session is not valid' : 'a token is required (Authorization: Bearer <token>, or a dashboard session)');
    }
  });

  // A refused WebSocket upgrade is answered over HTTP on a socket that the HTTP server no longer
  // tracks: close it, or it lingers (and holds the server's close open) until the client goes.
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode >= 400 && (request.headers.upgrade ?? '').toLowerCase() === 'websocket') request.raw.socket?.destroy();
  });

  app.addHook('onRoute', (route: RouteOptions & { websocket?: boolean }) => {
    if (route.websocket) return;
    const url = route.url ?? '';
    if (!url.startsWith('/v1/') && url !== '/ready' && url !== '/metrics') return;
    const ms = route.config?.handlerTimeoutMs ?? settings.handlerTimeoutMs;
    const handler = route.handler;
    route.handler = function deadline(this: FastifyInstance, request, reply) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<FastifyReply>((resolve) => {
        timer = setTimeout(() => {
          const err = new SkywatchError('DEPENDENCY_UNAVAILABLE', `no answer within ${ms / 1000} s: a dependency (Redis, storage) is slow or unreachable`);
          void reply.status(err.status).send(err.toJSON());
          // The handler may still finish later: its answer has nowhere to go, and is dropped quietly.
          reply.send = () => reply;
          resolve(reply);
        }, ms);
      });
      return Promise.race([Promise.resolve().then(() => handler.call(this, request, reply)), late]).finally(() => clearTimeout(timer));
    };
  });
}

function checkOrigin(request: FastifyRequest, allowed: Set<string>): void {
  const origin = request.headers.origin;
  // No Origin: not a browser's cross-site request (curl, scripts, server-to-server).
  if (origin === undefined) return;
  const normalised = normaliseOrigin(origin);
  if (normalised && allowed.has(normalised)) return;
  const host = request.headers.host?.toLowerCase();
  if (normalised && host && new URL(normalised).host === host) return;
  throw new SkywatchError('ORIGIN_NOT_ALLOWED', `requests from ${normalised ?? 'an opaque origin'} may not change anything here (api.allowedOrigins)`);
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's own answer deadline (routes that load models need more than the default). */
    handlerTimeoutMs?: number;
  }
}
