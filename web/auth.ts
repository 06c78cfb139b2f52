import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SkywatchError } from '../core/errors.js';

export type Role = 'viewer' | 'admin';

/**
 * A route hook (onRequest, so nothing of the body is read before it passes; it also works as a
 * preHandler) that lets a request through or throws UNAUTHORIZED / FORBIDDEN.
 */
export type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export interface TokenSettings {
  viewerTokens: string[];
  adminTokens: string[];
}

/** The dashboard's session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site sends it). */
export const SESSION_COOKIE = 'skywatch_session';

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The value of one cookie of a request, or null. */
export function cookieOf(request: FastifyRequest, name: string): string | null {
  const header = request.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

/** The bearer token of a request's Authorization header (the scheme is case-insensitive, RFC 7235). */
export function tokenOf(request: FastifyRequest): string | null {
  const match = /^bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match ? match[1] : null;
}

/**
 * A session is `<expiry ms>.<random>.<HMAC-SHA256 of both, keyed by the token it was exchanged for>`:
 * nothing is stored server-side, every API replica with the same tokens accepts it, and removing a
 * token from the configuration ends the sessions made with it.
 */
export function createSession(token: string, ttlMs: number, now = Date.now()): string {
  const body = `${now + ttlMs}.${randomBytes(12).toString('base64url')}`;
  return `${body}.${createHmac('sha256', token).update(`skywatch-session:${body}`).digest('base64url')}`;
}

/** The role of a session cookie, or null when it is forged, expired or its token was removed. */
export function sessionRole(settings: TokenSettings, session: string, now = Date.now()): Role | null {
  const parts = session.split('.');
  if (parts.length !== 3) return null;
  const [expiry, nonce, mac] = parts;
  if (!/^\d{1,15}$/.test(expiry) || Number(expiry) <= now) return null;
  const body = `${expiry}.${nonce}`;
  const signedBy = (token: string) => same(createHmac('sha256', token).update(`skywatch-session:${body}`).digest('base64url'), mac);
  if (settings.adminTokens.some(signedBy)) return 'admin';
  if (settings.viewerTokens.some(signedBy)) return 'viewer';
  return null;
}

export function tokensSet(settings: TokenSettings): boolean {
  return settings.viewerTokens.length > 0 || settings.adminTokens.length > 0;
}

/** The role a token grants, or null. With no tokens configured everyone is admin (loopback only). */
export function roleOf(settings: TokenSettings, token: string | null): Role | null {
  if (!tokensSet(settings)) return 'admin';
  if (!token) return null;
  if (settings.adminTokens.some((t) => same(t, token))) return 'admin';
  if (settings.viewerTokens.some((t) => same(t, token))) return 'viewer';
  return null;
}

/** The role of a request: its bearer token, else its session cookie. */
export function requestRole(settings: TokenSettings, request: FastifyRequest): { role: Role | null; presented: boolean } {
  if (!tokensSet(settings)) return { role: 'admin', presented: false };
  const token = tokenOf(request);
  if (token) return { role: roleOf(settings, token), presented: true };
  const session = cookieOf(request, SESSION_COOKIE);
  if (session) return { role: sessionRole(settings, session), presented: true };
  return { role: null, presented: false };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Installed by buildServer, so route plugins can guard routes with `requireRole(role)` alone. */
    skywatchTokens?: TokenSettings;
  }
}

/**
 * A guard: viewer routes accept viewer or admin credentials, admin routes only admin ones. Route
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
    const { role: granted, presented } = requestRole(settings, request);
    if (!granted) throw new SkywatchError('UNAUTHORIZED', presented ? 'this token or session is not valid' : 'a token is required (Authorization: Bearer <token>, or a dashboard session)');
    if (role === 'admin' && granted !== 'admin') throw new SkywatchError('FORBIDDEN', 'an admin token is required');
  };
}
