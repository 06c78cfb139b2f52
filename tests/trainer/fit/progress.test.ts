import { describe, expect, it } from 'vitest';
import { createProgress, formatDuration } from '../../../trainer/fit/progress.js';
import type { EpochRecord } from '../../../trainer/fit/epoch-record.js';

function sink(isTTY: boolean): { out: { write: (t: string) => boolean; isTTY: boolean; columns: number }; text: () => string } {
  const chunks: string[] = [];
  return { out: { write: (t: string) => chunks.push(t) > 0, isTTY, columns: 200 }, text: () => chunks.join('') };
}

const record: EpochRecord = { epoch: 2, loss: 0.5, accuracy: 0.75, valLoss: 0.6, valAccuracy: 0.7, learningRate: 0.001, steps: 10, seconds: 12.3, improved: true, time: '2026-01-01T00:00:00.000Z' };
const step = { epoch: 2, epochs: 5, step: 5, steps: 10, loss: 0.5, accuracy: 0.75, etaSeconds: 75 };

describe('progress output', () => {
  it('redraws one bar in place on a terminal, with epoch, step, loss, accuracy and ETA', () => {
    const { out, text } = sink(true);
    const p = createProgress(out);
    p.step(step);
    p.step({ ...step, step: 6 });
    p.epoch(record, 5);
    const s = text();
    expect(s).toContain('\r\x1b[2Kepoch 2/5 [===========>            ] 5/10 loss 0.5000 acc 0.7500 ETA 1:15');
    expect(s).toContain('6/10');
    expect(s.endsWith('epoch 2/5 loss 0.5000 acc 0.7500 val_loss 0.6000 val_acc 0.7000 12.3s *\n')).toBe(true);
  });

  it('writes plain lines elsewhere: every epoch, and a step line only once per interval', () => {
    const { out, text } = sink(false);
    let clock = 0;
    const p = createProgress(out, { plainIntervalMs: 1000, now: () => clock });
    p.step(step);
    clock = 1500;
    p.step({ ...step, step: 7 });
    clock = 1600;
    p.step({ ...step, step: 8 });
    p.epoch(record, 5);
    expect(text()).toBe('epoch 2/5 step 7/10 loss 0.5000 acc 0.7500 ETA 1:15\nepoch 2/5 loss 0.5000 acc 0.7500 val_loss 0.6000 val_acc 0.7000 12.3s *\n');
    expect(text()).not.toContain('\r');
  });

  it('formats durations', () => {
    expect(formatDuration(5)).toBe('0:05');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(Number.NaN)).toBe('--:--');
  });
});
