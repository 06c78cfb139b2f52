import { spawn } from 'node:child_process';
import path from 'node:path';
import { redisAnswers } from '../../core/redis-launcher.js';
import { freeRestartablePort } from '../../core/free-port.js';

export interface PrivateRedis {
  url: string;
  port: number;
  /** SHUTDOWN (saving the append-only file when enabled) and wait until it stops answering. */
  stop(): Promise<void>;
  /** Start again on the same port and folder. */
  start(): Promise<void>;
}


/** A redis-server of the test's own on a free port (fault tests kill and restart it). */
export async function startPrivateRedis(dir: string, options: { appendOnly?: boolean } = {}): Promise<PrivateRedis> {
  // Restarted on the same port: one no outgoing connection can take while the server is down.
  const port = await freeRestartablePort();
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', options.appendOnly ? 'yes' : 'no', '--dir', dir, '--daemonize', 'yes', '--pidfile', `${dir}/redis.pid`, '--logfile', path.join(dir, 'redis.log')];
  const start = async () => {
    await new Promise<void>((resolve, reject) => spawn('redis-server', args, { stdio: 'ignore' }).on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-server exited ${code}`)))));
    // A daemonized redis-server exits 0 before it binds: only an answer says it is up.
    for (let i = 0; i < 100; i++) {
      if (await redisAnswers(url, 200)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server on port ${port} did not answer (see ${path.join(dir, 'redis.log')})`);
  };
  await start();
  return {
    url,
    port,
    start,
    async stop() {
      await new Promise<void>((resolve) => spawn('redis-cli', ['-p', String(port), 'shutdown'], { stdio: 'ignore' }).on('exit', () => resolve()));
      for (let i = 0; i < 100 && (await redisAnswers(url, 200)); i++) await new Promise((r) => setTimeout(r, 50));
    },
  };
}
