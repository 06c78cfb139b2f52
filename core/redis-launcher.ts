import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { SkywatchError } from './errors.js';
import type { Logger } from './logger.js';
import { freePort } from './free-port.js';

export interface RedisHandle {
  url: string;
  /** True when this process started its own redis-server (one-machine mode). */
  started: boolean;
  stop(): Promise<void>;
}

/** PING with a short timeout and no retries: is a Redis there right now? */
export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** A URL PING can reach: the first seed node of a `redis+cluster://a:6379,b:6379` URL, else the URL itself. */
export function probeUrl(url: string): string {
  return url.startsWith('redis+cluster://') ? `redis://${url.slice('redis+cluster://'.length).split(',')[0]}` : url;
}

/**
 * The Redis to use: the configured one when it answers; otherwise, when allowed and `redis-server` is
 * installed, a private one started under the state folder (no persistence) and stopped with `stop()`.
 */
export async function ensureRedis(options: { url: string; stateDir: string; autoStart: boolean; logger: Logger }): Promise<RedisHandle> {
  const { url, logger } = options;
  if (url.startsWith('redis+cluster://')) {
    // A cluster is never started here; the first seed node must answer.
    const seed = probeUrl(url);
    if (await redisAnswers(seed)) return { url, started: false, stop: async () => {} };
    throw new SkywatchError('DEPENDENCY_UNAVAILABLE', `the Redis Cluster seed node ${seed} does not answer: start the cluster or fix SKYWATCH_REDIS_URL`);
  }
  if (await redisAnswers(url)) return { url, started: false, stop: async () => {} };
  if (!options.autoStart) {
    throw new SkywatchError('DEPENDENCY_UNAVAILABLE', `no Redis answers at ${url}: start one (redis-server) or set SKYWATCH_REDIS_URL, or allow SKYWATCH_REDIS_AUTOSTART=true`);
  }
  const dir = path.resolve(options.stateDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const log = openSync(path.join(dir, 'redis.log'), 'a');
  let child: ChildProcess;
  try {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir], { stdio: ['ignore', log, log] });
  } catch (err) {
    closeSync(log);
    throw new SkywatchError('DEPENDENCY_UNAVAILABLE', `no Redis at ${url} and redis-server could not start: ${(err as Error).message}`);
  }
  const spawned = await new Promise<Error | null>((resolve) => {
    child.once('error', resolve);
    child.once('spawn', () => resolve(null));
  });
  // The child holds its own copy of the log descriptor.
  closeSync(log);
  if (spawned) throw new SkywatchError('DEPENDENCY_UNAVAILABLE', `no Redis answers at ${url}, and redis-server is not installed (apt-get install -y redis-server, or point SKYWATCH_REDIS_URL at one)`);
  const own = `redis://127.0.0.1:${port}`;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  for (let i = 0; i < 50 && !exited() && !(await redisAnswers(own, 500)); i++) await new Promise((r) => setTimeout(r, 100));
  if (exited() || !(await redisAnswers(own))) {
    child.kill('SIGKILL');
    throw new SkywatchError('DEPENDENCY_UNAVAILABLE', `started redis-server on port ${port} but it ${exited() ? 'exited' : 'does not answer'} (see ${path.join(dir, 'redis.log')})`);
  }
  logger.warn({ configured: url, started: own }, `no Redis at ${url}: started a private redis-server at ${own} (stopped on exit)`);
  const onExit = () => child.kill('SIGTERM');
  process.once('exit', onExit);
  return {
    url: own,
    started: true,
    async stop() {
      process.removeListener('exit', onExit);
      if (exited()) return;
      const gone = new Promise((r) => child.once('exit', r));
      const client = new Redis(own, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => {});
      await client.connect().then(() => client.call('SHUTDOWN', 'NOSAVE')).catch(() => child.kill('SIGTERM'));
      client.disconnect();
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
      if (!exited()) child.kill('SIGKILL');
    },
  };
}
