import type { RedisClient } from '../core/redis-client.js';
import { fileUrlsAllowed, tokensConfigured, type Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { CameraRules } from './camera.js';
import { cameraHostPolicy } from './camera-hosts.js';
import { CameraLeases } from './camera-leases.js';
import { CameraStatusBoard } from './camera-status-board.js';
import type { FramePipelineFactory } from './frame-sink.js';
import { Ingestor, newIngestorId } from './ingestor.js';
import { IngestorRoster } from './ingestor-roster.js';
import { RedisCameraStore } from './redis-camera-store.js';
import { WebRecordings } from './web-recordings.js';

export interface IngestParts {
  store: RedisCameraStore;
  board: CameraStatusBoard;
  ingestor: Ingestor;
  rules: CameraRules;
}

/**
 * The ingest role's parts from the configuration, for `skywatch ingest` / `start`. An API-only process
 * needs just `store`, `board` (as the routes' runtime) and `rules`; it never starts the ingestor.
 */
export function createIngest(deps: { config: Config; redis: RedisClient; pipeline: FramePipelineFactory; logger?: Logger; id?: string }): IngestParts {
  const { config, redis } = deps;
  const s = config.ingest;
  const prefix = config.redis.prefix;
  const store = new RedisCameraStore(redis, prefix);
  // Status outlives a few ingest passes, then vanishes with the ingestor that wrote it.
  const board = new CameraStatusBoard(redis, prefix, 2 * s.leaseMs);
  const id = deps.id ?? newIngestorId();
  const leases = new CameraLeases(redis, prefix, id, s.leaseMs);
  const roster = new IngestorRoster(redis, prefix, id, s.leaseMs);
  const hosts = cameraHostPolicy(s, tokensConfigured(config));
  const allowFileUrls = fileUrlsAllowed(config);
  const recordings = new WebRecordings({ maxBytes: s.webFileMaxBytes });
  const ingestor = new Ingestor({ store, leases, pipeline: deps.pipeline, settings: { ...s, allowFileUrls }, board, logger: deps.logger, hosts, maxCameras: s.maxCameras, roster, recordings });
  return { store, board, ingestor, rules: { allowFileUrls, defaultFps: s.defaultFps, hosts, maxCameras: s.maxCameras } };
}
