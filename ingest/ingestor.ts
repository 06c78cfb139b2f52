import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../core/config.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Camera } from './camera.js';
import type { CameraLeases } from './camera-leases.js';
import type { CameraRuntime } from './camera-runtime.js';
import type { CameraStatusBoard } from './camera-status-board.js';
import type { CameraStore } from './camera-store.js';
import { CameraSupervisor, type CameraStatus } from './camera-supervisor.js';
import type { FramePipelineFactory } from './frame-sink.js';

export interface IngestorOptions {
  store: CameraStore;
  /** Built with this ingestor's id (`newIngestorId()`) and the configured lease time. */
  leases: CameraLeases;
  /** Each camera connection's pipeline (motion, tracking, crops, queue): a TrackOwner's `pipelineFor`. */
  pipeline: FramePipelineFactory;
  settings: Pick<Config['ingest'], 'allowFileUrls' | 'watchdogSeconds' | 'backoffMinMs' | 'backoffMaxMs' | 'leaseMs'>;
  /** Where status and snapshots are published for API processes elsewhere. */
  board?: CameraStatusBoard;
  logger?: Logger;
  /** How often leases are renewed and the store re-read; a third of the lease by default. */
  tickMs?: number;
  /** Most cameras this ingestor pulls at once. */
  maxCameras?: number;
}

export interface IngestorStatus {
  id: string;
  cameras: CameraStatus[];
}

export function newIngestorId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * Pulls the enabled cameras it holds leases for: each tick it re-reads the store, renews its leases
 * (dropping a camera whose lease it lost), takes free cameras, and restarts a camera whose settings
 * changed. Every camera ends up with exactly one ingestor; a dead ingestor's leases expire and the
 * others take its cameras within the lease time.
 */
export class Ingestor implements CameraRuntime {
  readonly id: string;
  private readonly logger: Logger;
  private readonly supervisors = new Map<string, CameraSupervisor>();
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private waiting: Promise<void> | null = null;
  private stopped = true;

  constructor(private readonly options: IngestorOptions) {
    this.id = options.leases.ownerId;
    this.logger = (options.logger ?? silentLogger).child({ ingestor: this.id });
    this.tickMs = options.tickMs ?? Math.max(100, Math.floor(options.settings.leaseMs / 3));
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.tickMs);
  }

  /**
   * Stops every ffmpeg child. Leases are released so another ingestor takes the cameras at once;
   * `release: false` leaves them to expire, as a crash would.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.chain;
    const ids = [...this.supervisors.keys()];
    await Promise.all(ids.map((id) => this.drop(id, options.release ?? true)));
  }

  /**
   * A pass that starts after this call (so it sees every change made before it); passes never
   * overlap, and calls while one is waiting to start share it.
   */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.waiting) return this.waiting;
    const pass = this.chain.then(async () => {
      this.waiting = null;
      if (this.stopped) return;
      await this.tick().catch((err: unknown) => this.logger.warn({ err }, 'ingest pass failed; retrying on the next tick'));
    });
    this.waiting = pass;
    this.chain = pass;
    return pass;
  }

  async status(cameraId: string): Promise<CameraStatus | null> {
    const own = this.supervisors.get(cameraId);
    if (own) return own.status();
    return (await this.options.board?.status(cameraId)) ?? null;
  }

  /** Cameras this ingestor pulls now. */
  overview(): IngestorStatus {
    return { id: this.id, cameras: [...this.supervisors.values()].map((s) => s.status()) };
  }

  async snapshot(cameraId: string): Promise<Buffer | null> {
    const own = this.supervisors.get(cameraId);
    if (own) return own.snapshot();
    return (await this.options.board?.snapshot(cameraId)) ?? null;
  }

  private async tick(): Promise<void> {
    const { leases } = this.options;
    const cameras = new Map((await this.options.store.list()).filter((c) => c.enabled).map((c) => [c.id, c]));
    for (const [id, supervisor] of this.supervisors) {
      const camera = cameras.get(id);
      if (!camera) {
        this.logger.info({ camera: id }, 'camera deleted or disabled; stopping it');
        await this.drop(id, true);
        await this.options.board?.remove(id);
      } else if (!(await leases.renew(id))) {
        this.logger.warn({ camera: id }, 'lease lost; another ingestor pulls this camera now');
        await this.drop(id, false);
      } else if (camera.updatedAt !== supervisor.camera.updatedAt) {
        this.logger.info({ camera: id }, 'camera settings changed; restarting it');
        await this.supervisors.get(id)?.stop();
        this.launch(camera);
      }
    }
    for (const camera of cameras.values()) {
      if (this.stopped || this.supervisors.size >= (this.options.maxCameras ?? Infinity)) break;
      if (this.supervisors.has(camera.id)) continue;
      if (await leases.acquire(camera.id)) {
        if (this.stopped) {
          await leases.release(camera.id);
          break;
        }
        this.logger.info({ camera: camera.id }, 'lease taken; starting camera');
        this.launch(camera);
      }
    }
    await this.publish();
  }

  private launch(camera: Camera): void {
    const s = this.options.settings;
    const supervisor = new CameraSupervisor({
      camera,
      pipeline: this.options.pipeline,
      allowFileUrls: s.allowFileUrls,
      watchdogMs: s.watchdogSeconds * 1000,
      backoffMinMs: s.backoffMinMs,
      backoffMaxMs: s.backoffMaxMs,
      logger: this.logger,
    });
    this.supervisors.set(camera.id, supervisor);
    supervisor.start();
  }

  private async drop(id: string, release: boolean): Promise<void> {
    const supervisor = this.supervisors.get(id);
    this.supervisors.delete(id);
    await supervisor?.stop();
    if (release) await this.options.leases.release(id);
  }

  private async publish(): Promise<void> {
    const board = this.options.board;
    if (!board) return;
    for (const supervisor of this.supervisors.values()) {
      await board.publish({ ...supervisor.status(), ingestor: this.id }, await supervisor.snapshot());
    }
  }
}
