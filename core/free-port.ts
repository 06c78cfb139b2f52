import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen(port, '127.0.0.1', () => {
      const { port: bound } = srv.address() as { port: number };
      srv.close(() => resolve(bound));
    });
  });
}

/** A TCP port free on loopback right now (for private servers: Redis, test fixtures). */
export async function freePort(): Promise<number> {
  const port = await tryListen(0);
  if (port === null) throw new Error('no free TCP port on 127.0.0.1');
  return port;
}

/** The first port the kernel hands out to outgoing connections (Linux's default when unknown). */
function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 1024 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A free port below the kernel's ephemeral range, for a server that is stopped and started again on
 * the same port. A port from `freePort()` is an ephemeral one: while its server is down, any outgoing
 * connection on the machine may be given it as its local port (a client retrying that very port can
 * even connect to itself), and the restarted server then cannot bind it.
 */
export async function freeRestartablePort(): Promise<number> {
  const top = ephemeralStart();
  const bottom = Math.max(1025, top - 12_000);
  for (let attempt = 0; attempt < 200; attempt++) {
    const candidate = bottom + Math.floor(Math.random() * (top - bottom));
    const port = await tryListen(candidate);
    if (port !== null) return port;
  }
  throw new Error(`no free TCP port on 127.0.0.1 between ${bottom} and ${top}`);
}
