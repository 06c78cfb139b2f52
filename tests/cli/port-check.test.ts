import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { checkPort } from '../../cli/doctor/port-check.js';
import { freePort } from '../../core/free-port.js';

describe('doctor port check', () => {
  it('with tokens (a wildcard bind) tries the port on loopback, never on every interface, and still sees it taken', async () => {
    const port = await freePort();
    const config = loadConfig({ env: { SKYWATCH_ADMIN_TOKENS: 'admin-token-0123456789', SKYWATCH_API_PORT: String(port) } });
    expect(await checkPort(config)).toMatchObject({ level: 'ok', detail: `127.0.0.1:${port} is free` });
    const holder = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => holder.listen(port, '0.0.0.0', r));
    try {
      expect((await checkPort(config)).level).toBe('fail');
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
    }
  });
});
