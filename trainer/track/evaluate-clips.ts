import { Track } from '../../tracking/track.js';
import { centre } from '../../tracking/track.js';
import { DEFAULT_REJOIN, TrackJudge, type TrackAlertEvent, type TrackJudgeOptions } from '../../tracking/track-judge.js';
import type { VerdictModel } from '../../tracking/verdict-model.js';
import { primaryTrack, type ClipRecord } from './track-set.js';

export interface AlertPolicy {
  threshold: number;
  minCrops: number;
  alertLabels: string[];
  /** Weight of the track model against the crops' mean probability (1: the track model alone). */
  blend: number;
  /** The judge's re-identification of lost tracks (absent: DEFAULT_REJOIN, what the cameras run; rejoinMs 0: off). */
  rejoin?: Pick<TrackJudgeOptions, 'rejoinMs' | 'rejoinSizes' | 'rejoinSizesPerSecond'>;
}

/** One drone alert beyond a clip's first, against the alerting track closest to it before it. */
export interface ExtraAlert {
  /** Its track's first point minus the earlier track's last point, ms (negative: both lived at once). */
  gapMs: number;
  /** Centre distance between the earlier track's last box at or before that first point and that first box, in object sizes. */
  sizes: number;
  /** Larger side of the two boxes, px. */
  size: number;
  /** From its track's first point to its alert, ms. */
  openAfterMs: number;
}

export interface ClipOutcome {
  clip: string;
  label: string;
  /** A drone (alert label) alert was raised in the clip. */
  alerted: boolean;
  /** Clip time of the first alert, ms (null without one). */
  firstAlertMs: number | null;
  /** First alert, from the first appearance of the alerting track, ms. */
  fromTrackStartMs: number | null;
  alerts: number;
  tracks: number;
  /** The final verdict of the clip's primary track (null when motion found none). */
  primaryVerdict: string | null;
  /** Each alert after the first (drone label), for finding where extra alerts come from. */
  extraAlerts: ExtraAlert[];
}

/**
 * Replays one clip's recorded tracks through the judge the cameras use, with every crop's probabilities
 * known: every track's points in order, tracks interleaved by frame, as a live camera would deliver them.
 */
export async function judgeClip(clip: ClipRecord, probabilities: Float32Array[][], verdict: VerdictModel, policy: AlertPolicy): Promise<ClipOutcome> {
  const judge = new TrackJudge({ verdict, threshold: policy.threshold, alertLabels: policy.alertLabels, minCrops: policy.minCrops, updateEveryMs: 1_000, frameWidth: clip.width, frameHeight: clip.height, ...DEFAULT_REJOIN, ...policy.rejoin });
  const tracks = clip.tracks.map((t) => {
    const track = new Track(t.id, t.points[0]);
    for (const p of t.points.slice(1)) track.points.push(p);
    return track;
  });
  const order = clip.tracks.flatMap((t, ti) => t.points.map((p, pi) => ({ ti, pi, seq: p.seq, at: p.at }))).sort((a, b) => a.seq - b.seq || a.ti - b.ti);
  const events: TrackAlertEvent[] = [];
  for (const [i, step] of order.entries()) {
    events.push(...(await judge.addScores(tracks[step.ti], step.seq, probabilities[step.ti][step.pi])));
    // Each frame over, as a camera ticks the judge (the recorded tracks hold only confirmed objects).
    if (order[i + 1]?.seq !== step.seq) events.push(...(await judge.tick(step.at)));
  }
  for (const t of tracks) events.push(...(await judge.endTrack(t)));
  events.push(...(await judge.flush()));
  const opens = events.filter((e) => e.kind === 'open');
  const first = opens.sort((a, b) => a.lastAt - b.lastAt)[0];
  const primary = primaryTrack(clip);
  let primaryVerdict: string | null = null;
  if (primary) {
    const pi = clip.tracks.indexOf(primary);
    primaryVerdict = (await verdict.judge(primary.points, probabilities[pi], clip.width, clip.height)).label;
  }
  return {
    clip: clip.id,
    label: clip.label,
    alerted: opens.length > 0,
    firstAlertMs: first ? first.lastAt : null,
    fromTrackStartMs: first ? first.lastAt - first.firstAt : null,
    alerts: opens.length,
    tracks: clip.tracks.filter((t) => t.points.length >= 2).length,
    primaryVerdict,
    extraAlerts: extraAlerts(tracks, opens),
  };
}

function extraAlerts(tracks: Track[], opens: TrackAlertEvent[]): ExtraAlert[] {
  const alerting = opens.map((e) => ({ track: tracks.find((t) => t.id === e.trackId)!, openAt: e.lastAt })).sort((a, b) => a.track.firstAt - b.track.firstAt || a.track.id - b.track.id);
  const out: ExtraAlert[] = [];
  for (const [i, later] of alerting.entries()) {
    if (i === 0) continue;
    const start = later.track.points[0];
    let best: ExtraAlert | null = null;
    for (const earlier of alerting.slice(0, i)) {
      const before = [...earlier.track.points].reverse().find((p) => p.at <= start.at) ?? earlier.track.points[0];
      const size = Math.max(before.box.width, before.box.height, start.box.width, start.box.height);
      const a = centre(before.box);
      const b = centre(start.box);
      const candidate = { gapMs: start.at - earlier.track.lastAt, sizes: Math.hypot(a.x - b.x, a.y - b.y) / size, size, openAfterMs: later.openAt - start.at };
      if (!best || candidate.sizes < best.sizes) best = candidate;
    }
    out.push(best!);
  }
  return out;
}

export interface ClipSummary {
  clips: Record<string, number>;
  /** Share of clips of each label with an alert (for drone: recall; for the others: false alarms). */
  alertedShare: Record<string, number>;
  medianAlertMs: number | null;
  medianFromTrackStartMs: number | null;
  /** Clips whose motion stage found a track of two points or more. */
  motionRecall: number;
  /** Primary tracks whose final verdict is the clip's label. */
  trackAccuracy: number;
  alertsPerAlertedClip: number;
}

export function summarise(outcomes: readonly ClipOutcome[]): ClipSummary {
  const clips: Record<string, number> = {};
  const alerted: Record<string, number> = {};
  for (const o of outcomes) {
    clips[o.label] = (clips[o.label] ?? 0) + 1;
    alerted[o.label] = (alerted[o.label] ?? 0) + (o.alerted ? 1 : 0);
  }
  const median = (v: number[]) => (v.length ? v.sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)] : null);
  const withVerdict = outcomes.filter((o) => o.primaryVerdict !== null);
  const alertedClips = outcomes.filter((o) => o.alerted);
  return {
    clips,
    alertedShare: Object.fromEntries(Object.keys(clips).sort().map((l) => [l, alerted[l] / clips[l]])),
    medianAlertMs: median(outcomes.filter((o) => o.label === 'drone' && o.firstAlertMs !== null).map((o) => o.firstAlertMs!)),
    medianFromTrackStartMs: median(outcomes.filter((o) => o.label === 'drone' && o.fromTrackStartMs !== null).map((o) => o.fromTrackStartMs!)),
    motionRecall: outcomes.filter((o) => o.tracks > 0).length / Math.max(1, outcomes.length),
    trackAccuracy: withVerdict.filter((o) => o.primaryVerdict === o.label).length / Math.max(1, withVerdict.length),
    alertsPerAlertedClip: alertedClips.reduce((a, o) => a + o.alerts, 0) / Math.max(1, alertedClips.length),
  };
}
