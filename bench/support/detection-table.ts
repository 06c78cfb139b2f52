import type { ClipOutcome } from '../../trainer/track/evaluate-clips.js';
import { summarise } from '../../trainer/track/evaluate-clips.js';

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

/**
 * The per-label detection table both quality benches print (offline replay and clips played as
 * cameras), so their numbers read side by side: clips, share with a drone alert, drone alerts per
 * alerted clip, then the median time to the first alert and the missed and falsely alerted clips.
 */
export function detectionTable(outcomes: readonly ClipOutcome[]): string[] {
  const s = summarise(outcomes);
  const lines = ['| label | clips | with a drone alert | drone alerts per alerted clip |', '|---|---|---|---|'];
  for (const label of Object.keys(s.clips)) {
    const alerted = outcomes.filter((o) => o.label === label && o.alerted);
    lines.push(`| ${label} | ${s.clips[label]} | ${pct(s.alertedShare[label])} (${alerted.length}) | ${(alerted.reduce((a, o) => a + o.alerts, 0) / Math.max(1, alerted.length)).toFixed(2)} |`);
  }
  lines.push(`median time to the first drone alert on drone clips: ${s.medianAlertMs ?? '-'} ms of clip time (${s.medianFromTrackStartMs ?? '-'} ms after the alerting track's first point)`);
  lines.push(`missed drone clips: ${outcomes.filter((o) => o.label === 'drone' && !o.alerted).map((o) => o.clip).join(', ') || 'none'}`);
  lines.push(`false alarms: ${outcomes.filter((o) => o.label !== 'drone' && o.alerted).map((o) => o.clip).join(', ') || 'none'}`);
  return lines;
}
