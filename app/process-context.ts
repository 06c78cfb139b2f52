import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { ModelRegistry } from '../core/model/registry.js';
import type { RedisClient } from '../core/redis-client.js';
import { ensureRedis } from '../core/redis-launcher.js';
import { AlertStream } from '../queue/alert-stream.js';
import { createRedis } from '../queue/redis-connection.js';
import { createDriftMonitor, followModel } from '../drift/follow-model.js';
import type { DriftMonitor } from '../drift/drift-monitor.js';
import { createSinks } from '../sinks/create-sinks.js';
import type { SinkList } from '../sinks/sink-list.js';
import { createProcessServices, type ProcessServices } from './process-services.js';

/**
 * What every role builder of one process receives: the configuration, one Redis (started privately
 * when none answers and the config allows it), the alert stream, the process's one set of model
 * services (made on first use, so an ingest-only process never loads a model), and one list of
 * things to stop, run in order on shutdown.
 */
export class ProcessContext {
  private servicesValue: ProcessServices | null = null;
  private sinksValue: SinkList | null = null;
  private driftValue: DriftMonitor | null | undefined;
  private readonly stops: Array<{ name: string; stop: () => Promise<void> }> = [];
  private readonly connections: RedisClient[] = [];

  private constructor(
    readonly config: Config,
    readonly logger: Logger,
    readonly registry: ModelRegistry,
    readonly redisUrl: string,
    readonly redis: RedisClient,
    readonly stream: AlertStream,
    private readonly stopRedis: () => Promise<void>,
  ) {}

  static async open(deps: { config: Config; logger: Logger; registry: ModelRegistry }): Promise<ProcessContext> {
    const { config, logger } = deps;
    const handle = await ensureRedis({ url: config.redis.url, stateDir: config.stateDir, autoStart: config.redis.autoStart, logger });
    const redis = createRedis(handle.url);
    const stream = new AlertStream(redis, config.redis.prefix, config.alerts.streamMaxLen);
    return new ProcessContext(config, logger, deps.registry, handle.url, redis, stream, () => handle.stop());
  }

  get prefix(): string {
    return this.config.redis.prefix;
  }

  /** The process's one model holder and micro-batcher; made (and started) on first use. */
  services(): ProcessServices {
    if (!this.servicesValue) {
      const services = createProcessServices({ config: this.config, logger: this.logger, registry: this.registry });
      services.start();
      this.servicesValue = services;
    }
    return this.servicesValue;
  }

  get hasServices(): boolean {
    return this.servicesValue !== null;
  }

  /**
   * The process's alert sinks (webhook, MQTT) for the roles that raise events: the owner of cameras
   * (alerts, cameras down and up) and workers (drift). Made on first use; closed after every role, so
   * the last events of a stopping role still go out.
   */
  sinks(): SinkList {
    this.sinksValue ??= createSinks(this.config, this.logger);
    return this.sinksValue;
  }

  /**
   * The drift monitor of the crops this process scores (null when drift.enabled is off): it follows
   * the process's model holder to the served model's baseline, and its drift events go to the sinks.
   */
  drift(): DriftMonitor | null {
    if (this.driftValue !== undefined) return this.driftValue;
    if (!this.config.drift.enabled) return (this.driftValue = null);
    const monitor = createDriftMonitor(this.config.drift);
    const unfollow = followModel(monitor, this.services().holder, this.registry, this.logger);
    monitor.onDrift((event) => this.sinks().deliver(event));
    this.onStop('drift monitor', async () => unfollow());
    this.driftValue = monitor;
    return monitor;
  }

  /** The drift monitor when a role of this process made one (a worker scores crops here), else null. */
  get driftIfScoring(): DriftMonitor | null {
    return this.driftValue ?? null;
  }

  /** A Redis connection of its own (blocking reads, BullMQ workers), closed on stop. */
  connection(): RedisClient {
    const c = createRedis(this.redisUrl);
    this.connections.push(c);
    return c;
  }

  /** Stopped in order of `onStop(..., 'first')` calls (newest first), then the others oldest first. */
  onStop(name: string, stop: () => Promise<void>, order: 'first' | 'last' = 'last'): void {
    if (order === 'first') this.stops.unshift({ name, stop });
    else this.stops.push({ name, stop });
  }

  /**
   * Stops every part in order, each given what is left of `shutdownTimeoutMs`: a part that does not
   * finish in time (BullMQ's worker waits forever for a Redis that is down) is logged and left behind,
   * and the connections are cut at the end whatever happened, so a stopping process always gets out.
   */
  async stop(): Promise<void> {
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    const parts = [...this.stops.splice(0)];
    if (this.servicesValue) parts.push({ name: 'model services', stop: () => this.servicesValue!.stop() });
    if (this.sinksValue) parts.push({ name: 'alert sinks', stop: () => this.sinksValue!.close() });
    for (const { name, stop } of parts) {
      const left = Math.max(0, deadline - Date.now());
      const outcome = await withinMs(stop(), left).catch((err: Error) => {
        this.logger.warn({ err, part: name }, `stopping ${name} failed`);
        return 'done' as const;
      });
      if (outcome === 'late') this.logger.warn({ part: name, shutdownTimeoutMs: this.config.shutdownTimeoutMs }, `${name} still stopping when the shutdown time ran out; left behind`);
    }
    for (const c of this.connections.splice(0)) c.disconnect();
    this.redis.disconnect();
    await this.stopRedis();
  }
}

/** 'done' when `work` settles within `ms`, 'late' otherwise (the work goes on; nobody waits for it). */
async function withinMs(work: Promise<unknown>, ms: number): Promise<'done' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  try {
    return await Promise.race([work.then(() => 'done' as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
