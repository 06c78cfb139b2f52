import type { FastifyInstance } from 'fastify';
import { SkywatchError } from '../../core/errors.js';
import { requestRole, type TokenSettings } from '../auth.js';

/**
 * The role of the caller (its bearer token, else its dashboard session), so the dashboard can hide
 * what that role may not do. No credentials is role `none`, not an error, where the request guards
 * let the request through: the page then asks for a token. Credentials that are not valid are 401,
 * so the page can say so instead of retrying.
 */
export async function whoamiRoutes(app: FastifyInstance, options: { tokens: TokenSettings }): Promise<void> {
  const { tokens } = options;
  const configured = tokens.viewerTokens.length > 0 || tokens.adminTokens.length > 0;
  app.get('/v1/whoami', {
    schema: {
      summary: 'The role of this request (token or session): admin, viewer or none',
      tags: ['health'],
      response: { 200: { type: 'object', properties: { role: { type: 'string', enum: ['admin', 'viewer', 'none'] }, tokens: { type: 'boolean' } } } },
    },
  }, async (request) => {
    const { role, presented } = requestRole(tokens, request);
    if (!role && presented) throw new SkywatchError('UNAUTHORIZED', 'this token or session is not valid');
    return { role: role ?? 'none', tokens: configured };
  });
}
