import type { RedisClient } from '../core/redis-client.js';
import { names } from './redis-connection.js';

/** The scores of one frame job's crops, sent back to the camera's owner. */
export interface CropResult {
  cameraId: string;
  pipeline: string;
  seq: number;
  /** Labels of `probabilities`, in order (the model that scored them). */
  labels: string[];
  modelVersion: string;
  /** Per crop: its track and its probabilities, or null when the worker dropped it (deadline, lost pixels). */
  crops: Array<{ trackId: number; probabilities: number[] | null }>;
}

/** The answer to a frame whose crops were not scored (dropped for its deadline, pixels lost, scoring failed). */
export function unscored(frame: Pick<CropResult, 'cameraId' | 'pipeline' | 'seq'> & { crops: ReadonlyArray<{ trackId: number }> }): CropResult {
  return { cameraId: frame.cameraId, pipeline: frame.pipeline, seq: frame.seq, labels: [], modelVersion: '', crops: frame.crops.map((c) => ({ trackId: c.trackId, probabilities: null })) };
}

/**
 * The way back from stateless workers to the ingestor that owns a camera: one capped Redis stream per
 * owner. Workers append (with an expiry, so the stream of an ingestor that died goes away); the owner
 * tails its own stream. Whichever worker scored a crop, its result reaches the one place that holds
 * the camera's tracks.
 */
export class CropResults {
  private readonly n: ReturnType<typeof names>;

  constructor(private readonly redis: RedisClient, prefix: string, private readonly options: { maxLen?: number; ttlMs?: number } = {}) {
    this.n = names(prefix);
  }

  async send(owner: string, result: CropResult): Promise<void> {
    const key = this.n.results(owner);
    // One round trip: the append and the expiry travel together.
    await this.redis.multi()
      .xadd(key, 'MAXLEN', '~', String(this.options.maxLen ?? 50_000), '*', 'r', JSON.stringify(result))
      .pexpire(key, this.options.ttlMs ?? 10 * 60_000)
      .exec();
  }

  /** The newest entry id of `owner`'s stream ('0-0' when empty): where a new owner starts reading. */
  async lastId(owner: string): Promise<string> {
    const rows = (await this.redis.xrevrange(this.n.results(owner), '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    return rows[0]?.[0] ?? '0-0';
  }

  /** Blocks up to `blockMs` for results after `lastId` (use a connection of its own). */
  async read(owner: string, lastId: string, blockMs: number, reader: RedisClient): Promise<Array<{ id: string; result: CropResult }>> {
    const res = (await reader.xread('COUNT', 500, 'BLOCK', blockMs, 'STREAMS', this.n.results(owner), lastId)) as Array<[string, Array<[string, string[]]>]> | null;
    if (!res) return [];
    const out: Array<{ id: string; result: CropResult }> = [];
    for (const [id, fields] of res[0][1]) {
      try {
        out.push({ id, result: JSON.parse(fields[fields.indexOf('r') + 1]) as CropResult });
      } catch {
        // A foreign or corrupt entry is skipped; the crops it would have answered time out as dropped.
      }
    }
    return out;
  }

  /** Drops what the owner has read, so the stream stays short. */
  async trim(owner: string, upToId: string): Promise<void> {
    await this.redis.xtrim(this.n.results(owner), 'MINID', upToId);
  }
}
