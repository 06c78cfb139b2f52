import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../core/config.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { Backoff } from './backoff.js';
import type { Camera } from './camera.js';
import type { CameraHostPolicy } from './camera-hosts.js';
import type { CameraLeases } from './camera-leases.js';
import type { IngestorRoster } from './ingestor-roster.js';
import type { CameraRuntime } from './camera-runtime.js';
import type { CameraStatusBoard } from './camera-status-board.js';
import type { CameraStore } from './camera-store.js';
import { CameraSupervisor, type CameraStatus } from './camera-supervisor.js';
import type { FramePipelineFactory } from './frame-sink.js';
import { SpawnLimiter } from './spawn-limiter.js';
import type { WebRecordings } from './web-recordings.js';

export interface IngestorOptions {
  store: CameraStore;
  /** Built with this ingestor's id (`newIngestorId()`) and the configured lease time. */
  leases: CameraLeases;
  /** Each camera connection's pipeline (motion, tracking, crops, queue): a TrackOwner's `pipelineFor`. */
  pipeline: FramePipelineFactory;
  settings: Pick<Config['ingest'], 'watchdogSeconds' | 'backoffMinMs' | 'backoffMaxMs' | 'leaseMs'> & { allowFileUrls: boolean } & Partial<Pick<Config['ingest'], 'spawnsPerSecond' | 'maxFrameLagMs' | 'loopsAsLive'>>;
  /** Hosts cameras may reach (createIngest gives the configured policy); strict by default. */
  hosts?: CameraHostPolicy;
  /** Where status and snapshots are published for API processes elsewhere. */
  board?: CameraStatusBoard;
  logger?: Logger;
  /** How often leases are renewed and the store re-read; a third of the lease by default. */
  tickMs?: number;
  /** Most cameras this ingestor pulls at once. */
  maxCameras?: number;
  /** The ingestors alive: with it, each takes its fair share of the cameras (absent: as many as it can). */
  roster?: IngestorRoster;
  /** Local copies of video files on web servers (absent: such files are played from the server). */
  recordings?: WebRecordings;
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
  private renewTimer: NodeJS.Timeout | null = null;
  private renewing = false;
  /** Cameras whose lease another ingestor holds now: dropped on the next pass. */
  private readonly lost = new Set<string>();
  /** Reconnect backoff per camera, kept while the camera exists, across leases and restarts. */
  private readonly backoffs = new Map<string, Backoff>();
  private readonly spawns: SpawnLimiter;
  private chain: Promise<void> = Promise.resolve();
  private waiting: Promise<void> | null = null;
  private stopped = true;

  constructor(private readonly options: IngestorOptions) {
    this.id = options.leases.ownerId;
    this.logger = (options.logger ?? silentLogger).child({ ingestor: this.id });
    this.tickMs = options.tickMs ?? Math.max(100, Math.floor(options.settings.leaseMs / 3));
    this.spawns = new SpawnLimiter(options.settings.spawnsPerSecond ?? 4);
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.options.roster?.heartbeat().catch((err: unknown) => this.logger.warn({ err }, 'ingestor roster not reachable; retrying'));
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.tickMs);
    // Leases are renewed on a timer of their own: a pass that takes longer than the lease (many
    // cameras, a slow Redis) must not cost this ingestor the cameras it is pulling.
    this.renewTimer = setInterval(() => void this.renewLeases(), this.tickMs);
  }

  private async renewLeases(): Promise<void> {
    if (this.renewing || this.stopped) return;
    this.renewing = true;
    try {
      const { leases, roster } = this.options;
      await roster?.heartbeat();
      await Promise.all([...this.supervisors.keys()].map(async (id) => {
        // An expired lease nobody else took is taken back rather than restarting a healthy camera.
        if (!(await leases.renew(id)) && !(await leases.acquire(id))) this.lost.add(id);
      }));
    } catch (err) {
      this.logger.warn({ err }, 'lease renewal failed; retrying');
    } finally {
      this.renewing = false;
    }
  }

  /**
   * Stops every ffmpeg child. Leases are released so another ingestor takes the cameras at once;
   * `release: false` leaves them to expire, as a crash would.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.timer = null;
    this.renewTimer = null;
    await this.chain;
    // Recordings that ended since the last pass are kept as ended, so the next start does not play them again.
    for (const supervisor of this.supervisors.values()) await this.keepIfEnded(supervisor);
    const ids = [...this.supervisors.keys()];
    await Promise.all(ids.map((id) => this.drop(id, options.release ?? true)));
    await this.options.recordings?.close();
    // Leaving at once lets the others take a fair share of the cameras now (a crash leaves it to expire).
    if (options.release ?? true) await this.options.roster?.leave().catch(() => {});
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

  async ended(): Promise<Map<string, number>> {
    return (await this.options.board?.ended()) ?? new Map();
  }

  async forgetEnded(cameraId: string): Promise<void> {
    await this.options.board?.forgetEnded(cameraId);
  }

  /** Reconnect attempts counted for a camera since it last delivered frames (kept across leases). */
  backoffAttempts(cameraId: string): number {
    return this.backoffs.get(cameraId)?.attempts ?? 0;
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
    const { leases, board } = this.options;
    const stored = await this.options.store.list();
    const ended = board ? await board.ended() : new Map<string, number>();
    // What is kept of an end goes with a camera that was deleted or changed since (a change plays it again).
    const current = new Map(stored.map((c) => [c.id, c.updatedAt]));
    for (const [id, updatedAt] of ended) {
      if (current.get(id) === updatedAt) continue;
      await board?.forgetEnded(id);
      ended.delete(id);
    }
    const cameras = new Map(stored.filter((c) => c.enabled && !ended.has(c.id)).map((c) => [c.id, c]));
    for (const [id, supervisor] of this.supervisors) {
      const camera = cameras.get(id);
      if (board && camera && camera.updatedAt === supervisor.camera.updatedAt && (await this.keepIfEnded(supervisor))) {
        // A recording played to its end: its final status is kept and its slot and lease freed, so
        // recordings played one after another never fill ingest.maxCameras, and a restart does not
        // play them again.
        this.logger.info({ camera: id }, 'recording played to its end; its slot is free');
        await this.drop(id, true);
        this.backoffs.delete(id);
        await board.remove(id);
        cameras.delete(id);
        continue;
      }
      if (!camera) {
        this.logger.info({ camera: id }, 'camera deleted or disabled; stopping it');
        await this.drop(id, true);
        this.backoffs.delete(id);
        await this.options.board?.remove(id);
      } else if (this.lost.has(id)) {
        this.lost.delete(id);
        this.logger.warn({ camera: id }, 'lease lost; another ingestor pulls this camera now');
        await this.drop(id, false);
      } else if (camera.updatedAt !== supervisor.camera.updatedAt) {
        this.logger.info({ camera: id }, 'camera settings changed; restarting it');
        await this.supervisors.get(id)?.stop();
        this.launch(camera);
      }
    }
    const limit = Math.min(this.options.maxCameras ?? Infinity, this.fairShare(cameras.size));
    if (this.supervisors.size > limit && !this.stopped) {
      // Another ingestor joined: hand one camera back per pass (it is free at once for the newcomer),
      // so cameras spread out without every one of them restarting together.
      const id = [...this.supervisors.keys()].at(-1)!;
      this.logger.info({ camera: id, share: limit }, 'more cameras here than this ingestor\'s share; handing one over');
      await this.drop(id, true);
    }
    for (const camera of cameras.values()) {
      if (this.stopped || this.supervisors.size >= limit) break;
      if (this.supervisors.has(camera.id)) continue;
      if (await leases.acquire(camera.id)) {
        this.lost.delete(camera.id);
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

  /** Cameras this ingestor should pull: an even split over the ingestors alive (rounded up). */
  private fairShare(cameras: number): number {
    const roster = this.options.roster;
    return roster ? Math.max(1, Math.ceil(cameras / roster.live)) : Infinity;
  }

  private launch(camera: Camera): void {
    const s = this.options.settings;
    let backoff = this.backoffs.get(camera.id);
    if (!backoff) {
      backoff = new Backoff({ minMs: s.backoffMinMs, maxMs: s.backoffMaxMs });
      this.backoffs.set(camera.id, backoff);
    }
    const supervisor = new CameraSupervisor({
      camera,
      pipeline: this.options.pipeline,
      allowFileUrls: s.allowFileUrls,
      watchdogMs: s.watchdogSeconds * 1000,
      maxFrameLagMs: s.maxFrameLagMs,
      loopsAsLive: s.loopsAsLive,
      backoffMinMs: s.backoffMinMs,
      backoffMaxMs: s.backoffMaxMs,
      logger: this.logger,
      hosts: this.options.hosts,
      spawns: this.spawns,
      backoff,
      recordings: this.options.recordings,
    });
    this.supervisors.set(camera.id, supervisor);
    supervisor.start();
  }

  /** Keeps the final status of a play-once camera that played to its end (true), as the camera stood when it played. */
  private async keepIfEnded(supervisor: CameraSupervisor): Promise<boolean> {
    const status = supervisor.status();
    if (status.state !== 'ended' || !this.options.board) return false;
    const jpeg = await supervisor.snapshot().catch(() => null);
    await this.options.board.keepEnded(status, supervisor.camera.updatedAt, jpeg);
    return true;
  }

  private async drop(id: string, release: boolean): Promise<void> {
    const supervisor = this.supervisors.get(id);
    this.supervisors.delete(id);
    await supervisor?.stop();
    await this.options.recordings?.forget(id);
    if (release) await this.options.leases.release(id);
  }

  private async publish(): Promise<void> {
    const board = this.options.board;
    if (!board) return;
    // Previews only for cameras someone is looking at (see CameraStatusBoard).
    const wanted = await board.wanted([...this.supervisors.keys()]);
    for (const [id, supervisor] of this.supervisors) {
      await board.publish({ ...supervisor.status(), ingestor: this.id }, wanted.has(id) ? await supervisor.snapshot() : null);
    }
  }
}
