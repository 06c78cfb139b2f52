import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./rtsp_server.py', import.meta.url));

export interface RtspServer {
  url: string;
  port: number;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL (a camera that vanishes without a goodbye) and wait for exit. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: the connection stays open but nothing flows (a stalled camera). */
  pause(): void;
  resume(): void;
}

export interface RtspServerOptions {
  /** An H.264 MP4 to serve; without it a moving test pattern. */
  file?: string;
  /** Reuse a port (restarting a killed server at the same URL). */
  port?: number;
  width?: number;
  height?: number;
  fps?: number;
}

/** GStreamer's RTSP server in a child process (Debian's python3 with gi); resolves once it listens. */
export function startRtspServer(options: RtspServerOptions = {}): Promise<RtspServer> {
  const args = [SCRIPT, '--port', String(options.port ?? 0), '--width', String(options.width ?? 320), '--height', String(options.height ?? 240), '--fps', String(options.fps ?? 10)];
  if (options.file) args.push('--file', options.file);
  const child = spawn('/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = `${stderr}${d.toString()}`.slice(-2000);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const fail = (why: string) => reject(new Error(`RTSP server did not start: ${why}\n${stderr}`));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail('timeout');
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(`exited with ${code}`);
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const port = Number(m[1]);
      resolve({ url: `rtsp://127.0.0.1:${port}/cam`, port, stop: () => end(child, 'SIGTERM'), kill: () => end(child, 'SIGKILL'), pause: () => child.kill('SIGSTOP'), resume: () => child.kill('SIGCONT') });
    });
  });
}

function end(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGCONT');
    child.kill(signal);
  });
}
