import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SkywatchError } from '../../core/errors.js';
import { createSession, requestRole, roleOf, SESSION_COOKIE, tokensSet, type TokenSettings } from '../auth.js';

/**
 * Dashboard sessions: the page posts a token once and gets an HttpOnly, SameSite=Strict cookie, so no
 * later URL (images, the WebSocket) carries a secret and no script can read the credential.
 */
export async function sessionRoutes(app: FastifyInstance, options: { tokens: TokenSettings; ttlSeconds: number }): Promise<void> {
  const { tokens, ttlSeconds } = options;
  const cookie = (request: FastifyRequest, value: string, maxAge: number) => {
    // Secure when the page came over TLS (directly, or through a proxy that says so).
    const secure = request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
  };

  app.post('/v1/session', {
    schema: {
      summary: 'Exchange a token for a dashboard session cookie (HttpOnly, SameSite=Strict)',
      tags: ['session'],
      body: { type: 'object', required: ['token'], additionalProperties: false, properties: { token: { type: 'string', minLength: 1, maxLength: 512 } } },
    },
  }, async (request, reply: FastifyReply) => {
    if (!tokensSet(tokens)) return { role: 'admin', tokens: false };
    const role = roleOf(tokens, (request.body as { token: string }).token);
    if (!role) throw new SkywatchError('UNAUTHORIZED', 'this token is not valid');
    void reply.header('set-cookie', cookie(request, createSession((request.body as { token: string }).token, ttlSeconds * 1000), ttlSeconds)).header('cache-control', 'no-store');
    return { role, tokens: true, expiresInSeconds: ttlSeconds };
  });

  app.get('/v1/session', { schema: { summary: 'The role of this request (token or session); 401 without one', tags: ['session'] } }, async (request) => {
    const { role } = requestRole(tokens, request);
    if (!role) throw new SkywatchError('UNAUTHORIZED', 'no valid token or session');
    return { role, tokens: tokensSet(tokens) };
  });

  app.delete('/v1/session', { schema: { summary: 'Log out: clear the session cookie', tags: ['session'] } }, async (request, reply) => {
    return reply.header('set-cookie', cookie(request, '', 0)).status(204).send();
  });
}
