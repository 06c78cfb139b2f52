import { createServer } from 'node:net';
import { tokensConfigured, type Config } from '../../core/config.js';
import type { CheckResult } from './check-result.js';

/** The address the API would bind (web/server.ts: loopback only without tokens). */
export function apiBindHost(config: Config): string {
  return tokensConfigured(config) ? config.api.host ?? '0.0.0.0' : '127.0.0.1';
}

function tryListen(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    srv.listen(port, host, () => srv.close(() => resolve(null)));
  });
}

async function skywatchAnswers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_500) });
    return res.ok && typeof ((await res.json()) as { status?: unknown }).status === 'string';
  } catch {
    return false;
  }
}

/**
 * The API port can be bound; when it cannot because Skywatch already runs there, that is only a
 * warning. A wildcard bind is tried on loopback instead (a port taken on 0.0.0.0 is taken there
 * too): the check must not open the port to the network, even for a moment.
 */
export async function checkPort(config: Config): Promise<CheckResult> {
  const { port } = config.api;
  const bind = apiBindHost(config);
  const host = bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind;
  const err = await tryListen(host, port);
  if (!err) return { name: 'port', level: 'ok', detail: `${host}:${port} is free` };
  if (err.code === 'EADDRINUSE' && (await skywatchAnswers(port))) {
    return { name: 'port', level: 'warn', detail: `${host}:${port} is taken by a running Skywatch (its /health answers)`, fix: 'stop it first, or give this one SKYWATCH_API_PORT / --port' };
  }
  return { name: 'port', level: 'fail', detail: `${host}:${port}: ${err.code ?? err.message}`, fix: err.code === 'EACCES' ? 'use a port above 1023 (SKYWATCH_API_PORT)' : 'stop what uses it or set SKYWATCH_API_PORT' };
}
