import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface LocalSocketPair {
  /** Our end: reads with the `onread` it was made with. */
  reader: net.Socket;
  /** The other end, to hand to a child process as a stdio stream (then destroyed here). */
  writer: net.Socket;
}

/**
 * Two connected local stream sockets, the reading one made with `onread`, so a child's output lands
 * in buffers the caller chooses. Node has no socketpair(2), and a child's stdio pipe cannot be given
 * `onread`: without it every read of a pipe allocates a new ArrayBuffer (1 MB per decoded frame,
 * counted against V8's old-generation limit, so it drives Mark-Compacts). The pair is made through a
 * Unix socket in the temp directory that exists only until the two ends have met.
 */
export async function localSocketPair(onread: net.OnReadOpts): Promise<LocalSocketPair> {
  const file = path.join(os.tmpdir(), `skywatch-${process.pid}-${randomBytes(6).toString('hex')}.sock`);
  // The writer end never reads: nothing comes back the other way.
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => {
      server.off('error', reject);
      resolve();
    });
  });
  try {
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const reader = net.connect({ path: file, onread });
    await new Promise<void>((resolve, reject) => {
      reader.once('error', reject);
      reader.once('connect', () => {
        reader.off('error', reject);
        resolve();
      });
    });
    return { reader, writer: await accepted };
  } finally {
    // Removes the socket file; the connection stays.
    server.close();
  }
}
