import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SkywatchError } from '../core/errors.js';

export type Role = 'viewer' | 'admin';

/** A route preHandler that lets a request through or throws UNAUTHORIZED / FORBIDDEN. */
export type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export interface TokenSettings {
  viewerTokens: string[];
  adminTokens: string[];
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The bearer token of a request: the Authorization header, or `?token=` for image URLs and sockets. */
export function tokenOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const q = (request.query as Record<string, unknown> | undefined)?.token;
  return typeof q === 'string' && q ? q : null;
}

/** The role a token grants, or null. With no tokens configured everyone is admin (loopback only). */
export function roleOf(settings: TokenSettings, token: string | null): Role | null {
  if (settings.viewerTokens.length === 0 && settings.adminTokens.length === 0) return 'admin';
  if (!token) return null;
  if (settings.adminTokens.some((t) => same(t, token))) return 'admin';
  if (settings.viewerTokens.some((t) => same(t, token))) return 'viewer';
  return null;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Installed by buildServer, so route plugins can guard routes with `requireRole(role)` alone. */
    skywatchTokens?: TokenSettings;
  }
}

/**
 * A preHandler: viewer routes accept viewer or admin tokens, admin routes only admin tokens. Route
 * plugins registered on the server call `requireRole('admin')`; the token settings are the server's.
 */
export function requireRole(role: Role): Guard;
export function requireRole(settings: TokenSettings, role: Role): Guard;
export function requireRole(a: Role | TokenSettings, b?: Role): Guard {
  const explicit = typeof a === 'string' ? null : a;
  const role = typeof a === 'string' ? a : b!;
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const settings = explicit ?? request.server.skywatchTokens;
    // Fail closed: a guard on a server that never installed its tokens lets nobody through.
    if (!settings) throw new SkywatchError('INTERNAL', 'token settings are not installed on this server');
    const token = tokenOf(request);
    const granted = roleOf(settings, token);
    if (!granted) throw new SkywatchError('UNAUTHORIZED', token ? 'this token is not valid' : 'a token is required (Authorization: Bearer <token>)');
    if (role === 'admin' && granted !== 'admin') throw new SkywatchError('FORBIDDEN', 'an admin token is required');
  };
}
