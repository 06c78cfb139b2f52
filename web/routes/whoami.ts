import type { FastifyInstance } from 'fastify';
import { SkywatchError } from '../../core/errors.js';
import { requestRole, type TokenSettings } from '../auth.js';

/**
 * The role of the caller's token, so the dashboard can hide what that role may not do. No token
 * (with tokens configured) is role `none`, not an error: the page then asks for one. A token that
 * is not valid is 401, so the page can say so instead of retrying.
 */
export async function whoamiRoutes(app: FastifyInstance, options: { tokens: TokenSettings }): Promise<void> {
  const { tokens } = options;
  const configured = tokens.viewerTokens.length > 0 || tokens.adminTokens.length > 0;
  app.get('/v1/whoami', {
    schema: {
      summary: "The role of this request's token: admin, viewer or none",
      tags: ['health'],
      response: { 200: { type: 'object', properties: { role: { type: 'string', enum: ['admin', 'viewer', 'none'] }, tokens: { type: 'boolean' } } } },
    },
  }, async (request) => {
    // The bearer token, else the dashboard's session cookie.
    const { role, presented } = requestRole(tokens, request);
    if (!role && presented) throw new SkywatchError('UNAUTHORIZED', 'this token is not valid');
    return { role: role ?? 'none', tokens: configured };
  });
}
