import type { Config } from '../../core/config.js';
import type { CheckResult } from './check-result.js';

export const MIN_TOKEN_LENGTH = 16;

/** No tokens: the API serves loopback only. Short tokens can be guessed: refuse them. */
export async function checkTokens(config: Config): Promise<CheckResult> {
  const { viewerTokens, adminTokens } = config.api;
  if (viewerTokens.length + adminTokens.length === 0) {
    return { name: 'tokens', level: 'warn', detail: 'no API tokens: the API binds 127.0.0.1 only', fix: 'set SKYWATCH_VIEWER_TOKENS and SKYWATCH_ADMIN_TOKENS (openssl rand -hex 24) to serve other machines' };
  }
  const short = [...viewerTokens, ...adminTokens].filter((t) => t.length < MIN_TOKEN_LENGTH).length;
  if (short > 0) return { name: 'tokens', level: 'fail', detail: `${short} token(s) shorter than ${MIN_TOKEN_LENGTH} characters`, fix: 'use long random tokens (openssl rand -hex 24)' };
  if (adminTokens.length === 0) return { name: 'tokens', level: 'warn', detail: `${viewerTokens.length} viewer token(s), no admin token: cameras and models cannot be managed over the API`, fix: 'set SKYWATCH_ADMIN_TOKENS' };
  return { name: 'tokens', level: 'ok', detail: `${viewerTokens.length} viewer, ${adminTokens.length} admin` };
}
