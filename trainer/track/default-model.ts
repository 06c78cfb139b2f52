import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../core/logger.js';
import { buildTracksFromVideos } from '../data/tracks-from-videos.js';
import { readTrackSet } from './track-set.js';
import { trainTrackModel, type TrackTrainingResult } from './train-track-model.js';
import type { Config } from '../../core/config.js';

export interface DefaultModelRequest {
  /** Labelled sky clips, one folder per label. */
  videos: string;
  /** Labelled photographs (one folder per label) that also train the crop model, for single-image predict. */
  photos?: string;
  registry: string;
  stateDir: string;
  backbone: string;
  gcs?: Config['gcs'];
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * What `skywatch start` publishes into an empty registry: a track model trained on the labelled sky
 * clips, since cameras see small objects against the sky, not close-up photographs. The clips' tracks
 * are extracted once into the state folder and reused by later runs.
 */
export async function trainDefaultModel(request: DefaultModelRequest): Promise<TrackTrainingResult> {
  const { logger } = request;
  const tracks = path.join(request.stateDir, 'datasets', 'tracks');
  const ready = existsSync(tracks) && (await readTrackSet(tracks).then((c) => c.length > 0, () => false));
  if (!ready) {
    logger.info({ videos: request.videos, tracks }, 'following the moving objects of the labelled clips (motion + tracker, as cameras do)');
    let last = 0;
    const result = await buildTracksFromVideos(request.videos, tracks, {
      signal: request.signal,
      onProgress: (p) => {
        if (p.done === p.total || Date.now() - last > 5_000) {
          last = Date.now();
          logger.info({ done: p.done, total: p.total }, `clips: ${p.done}/${p.total} (${p.crops} crops)`);
        }
      },
    });
    for (const s of result.skipped) logger.warn({ clip: s.path }, `clip skipped: ${s.reason}`);
  }
  return trainTrackModel({ tracks, photos: request.photos, registry: request.registry, stateDir: request.stateDir, backbone: request.backbone, gcs: request.gcs, logger, signal: request.signal, publish: true, tracking: { tags: { trigger: 'start: empty registry' } } });
}
