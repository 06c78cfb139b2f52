import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, freeRestartablePort } from '../../core/free-port.js';

const listenOn = (port: number) =>
  new Promise<() => Promise<void>>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(() => new Promise((r) => srv.close(() => r()))));
  });

describe('free ports', () => {
  it('a restartable port lies below the range outgoing connections are given, and both kinds can be bound', async () => {
    const ephemeralFirst = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freeRestartablePort()));
    for (const p of ports) {
      expect(p).toBeGreaterThan(1024);
      expect(p).toBeLessThan(ephemeralFirst);
    }
    const close = await listenOn(ports[0]);
    await close();
    const any = await freePort();
    const closeAny = await listenOn(any);
    await closeAny();
  });
});
