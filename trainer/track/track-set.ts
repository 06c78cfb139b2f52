import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SkywatchError } from '../../core/errors.js';
import type { TrackPoint } from '../../tracking/track.js';
import { seededRandom, shuffled } from '../data/seeded-shuffle.js';

/**
 * A track data set, as `skywatch data from-videos` writes it: one folder per label, one folder per clip,
 * and in it `tracks.json` (every track the live stages followed: its points and the file of the native-
 * resolution crop cut at each) beside the crops (PNG). Clips are the unit of splitting: no clip is ever
 * on both sides of a split.
 */
const boxSchema = z.object({ x: z.number().int().min(0), y: z.number().int().min(0), width: z.number().int().min(1), height: z.number().int().min(1) });
const pointSchema = z.object({ seq: z.number().int().min(0), at: z.number().min(0), box: boxSchema, area: z.number().min(0), crop: z.string().regex(/^[A-Za-z0-9_.-]+\.png$/) });
const clipSchema = z.object({
  label: z.string().min(1),
  clip: z.string().min(1),
  width: z.number().int().min(1),
  height: z.number().int().min(1),
  frames: z.number().int().min(0),
  fps: z.number().positive().default(5),
  tracks: z.array(z.object({ id: z.number().int(), points: z.array(pointSchema) })),
});

export type TrackFilePoint = z.infer<typeof pointSchema>;
export type ClipTracksFile = z.infer<typeof clipSchema>;

export interface TrackRecord {
  id: number;
  points: TrackPoint[];
  /** Absolute path of the crop of each point. */
  crops: string[];
}

export interface ClipRecord {
  /** `label/clip`: the group a split keeps together. */
  id: string;
  label: string;
  clip: string;
  width: number;
  height: number;
  frames: number;
  fps: number;
  tracks: TrackRecord[];
}

export const TRACKS_FILE = 'tracks.json';

export async function readTrackSet(dir: string): Promise<ClipRecord[]> {
  let labels: string[];
  try {
    labels = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch (err) {
    throw new SkywatchError('DATA_INVALID', `cannot read track data set ${dir}: ${(err as Error).message}`);
  }
  const clips: ClipRecord[] = [];
  for (const label of labels) {
    for (const entry of (await readdir(path.join(dir, label), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
      const clipDir = path.join(dir, label, entry);
      let parsed: ClipTracksFile;
      try {
        parsed = clipSchema.parse(JSON.parse(await readFile(path.join(clipDir, TRACKS_FILE), 'utf8')));
      } catch (err) {
        throw new SkywatchError('DATA_INVALID', `${path.join(label, entry, TRACKS_FILE)}: ${(err as Error).message.split('\n')[0]}`);
      }
      clips.push({
        id: `${label}/${entry}`,
        label,
        clip: parsed.clip,
        width: parsed.width,
        height: parsed.height,
        frames: parsed.frames,
        fps: parsed.fps,
        tracks: parsed.tracks.map((t) => ({
          id: t.id,
          points: t.points.map(({ seq, at, box, area }) => ({ seq, at, box, area })),
          crops: t.points.map((p) => path.join(clipDir, p.crop)),
        })),
      });
    }
  }
  if (clips.length === 0) throw new SkywatchError('DATA_EMPTY', `no clips with ${TRACKS_FILE} in ${dir} (run \`skywatch data from-videos\` first)`);
  return clips;
}

/** The track a clip's label is about: the one followed longest (ties: the earliest). */
export function primaryTrack(clip: ClipRecord): TrackRecord | null {
  let best: TrackRecord | null = null;
  for (const t of clip.tracks) if (!best || t.points.length > best.points.length) best = t;
  return best && best.points.length >= 2 ? best : null;
}

/** Seeded folds of clips, stratified by label: fold k of every clip. */
export function clipFolds(clips: readonly ClipRecord[], folds: number, seed: number): number[] {
  const out = new Array<number>(clips.length).fill(0);
  const byLabel = new Map<string, number[]>();
  clips.forEach((c, i) => byLabel.set(c.label, [...(byLabel.get(c.label) ?? []), i]));
  let offset = 0;
  for (const label of [...byLabel.keys()].sort()) {
    const idx = shuffled(byLabel.get(label)!, seededRandom(seed ^ hashString(label)));
    // Labels continue the round-robin where the last one stopped, so small labels spread over folds.
    idx.forEach((clipIndex, j) => (out[clipIndex] = (offset + j) % folds));
    offset += idx.length;
  }
  return out;
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
