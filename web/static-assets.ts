import type { FastifyStaticOptions } from '@fastify/static';

/** Vite names built assets `name-<8+ char hash>.ext`: their content never changes under that name. */
const HASHED = /[/\\]assets[/\\][^/\\]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

/**
 * How the dashboard's files are served: hashed assets are cached for a year (immutable), index.html
 * is revalidated on every load (so a new build is picked up at once), and source maps stay on the
 * server's disk for debugging but are never served.
 */
export function staticOptions(): Pick<FastifyStaticOptions, 'cacheControl' | 'setHeaders' | 'allowedPath'> {
  return {
    cacheControl: false,
    allowedPath: (pathName: string) => !pathName.endsWith('.map'),
    setHeaders: (reply, filePath) => {
      reply.header('cache-control', HASHED.test(filePath) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  };
}
