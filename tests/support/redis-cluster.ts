import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { redisAnswers } from '../../core/redis-launcher.js';
import { freePort } from '../../core/free-port.js';


/** A real three-node Redis Cluster on loopback (no replicas), for tests; `stop()` shuts it down. */
export async function startRedisCluster(dir: string): Promise<{ url: string; ports: number[]; stop(): Promise<void> }> {
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    let port = await freePort();
    // The cluster bus listens on port + 10000: keep both in range.
    while (port > 55_000 || ports.includes(port)) port = await freePort();
    ports.push(port);
    const nodeDir = path.join(dir, String(port));
    mkdirSync(nodeDir, { recursive: true });
    await new Promise<void>((resolve, reject) => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--save', '', '--appendonly', 'no', '--dir', nodeDir, '--daemonize', 'yes'], { stdio: 'ignore' }).on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`redis-server exited ${c}`)))));
    for (let t = 0; t < 100 && !(await redisAnswers(`redis://127.0.0.1:${port}`, 200)); t++) await new Promise((r) => setTimeout(r, 50));
  }
  execFileSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore' });
  for (let t = 0; t < 100; t++) {
    const info = execFileSync('redis-cli', ['-p', String(ports[0]), 'cluster', 'info'], { encoding: 'utf8' });
    if (info.includes('cluster_state:ok')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    ports,
    async stop() {
      for (const p of ports) {
        try {
          execFileSync('redis-cli', ['-p', String(p), 'shutdown', 'nosave'], { stdio: 'ignore' });
        } catch {}
      }
    },
  };
}
