import type { EpochRecord } from './epoch-record.js';

export interface StepProgress {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  /** Running means over the epoch so far. */
  loss: number;
  accuracy: number;
  /** Seconds left in this epoch at the current pace. */
  etaSeconds: number;
}

/** What the training loop tells a person watching. */
export interface ProgressReporter {
  step(progress: StepProgress): void;
  epoch(record: EpochRecord, epochs: number): void;
  note(text: string): void;
  /** Leaves the terminal on a fresh line. */
  close(): void;
}

interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

function epochLine(r: EpochRecord, epochs: number): string {
  const val = r.valLoss !== undefined ? ` val_loss ${r.valLoss.toFixed(4)} val_acc ${(r.valAccuracy ?? 0).toFixed(4)}` : '';
  return `epoch ${r.epoch}/${epochs} loss ${r.loss.toFixed(4)} acc ${r.accuracy.toFixed(4)}${val} ${r.seconds.toFixed(1)}s${r.improved ? ' *' : ''}`;
}

/**
 * A bar redrawn in place on a terminal; on anything else (a log file, CI) plain lines: one per epoch
 * and a step line at most every `plainIntervalMs`, so logs stay readable.
 */
export function createProgress(out: Output, options: { tty?: boolean; plainIntervalMs?: number; now?: () => number } = {}): ProgressReporter {
  const tty = options.tty ?? Boolean(out.isTTY);
  const now = options.now ?? Date.now;
  const interval = options.plainIntervalMs ?? 30_000;
  let lastPlain = now();
  let drawn = false;
  const clear = (): void => {
    if (drawn) out.write('\r\x1b[2K');
    drawn = false;
  };
  return {
    step(p) {
      const text = `epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} acc ${p.accuracy.toFixed(4)} ETA ${formatDuration(p.etaSeconds)}`;
      if (tty) {
        const width = 24;
        const filled = Math.round((p.step / Math.max(1, p.steps)) * width);
        const bar = `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}]`;
        const line = `epoch ${p.epoch}/${p.epochs} ${bar} ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} acc ${p.accuracy.toFixed(4)} ETA ${formatDuration(p.etaSeconds)}`;
        out.write(`\r\x1b[2K${line.slice(0, Math.max(20, (out.columns ?? 120) - 1))}`);
        drawn = true;
      } else if (now() - lastPlain >= interval) {
        out.write(`${text}\n`);
        lastPlain = now();
      }
    },
    epoch(record, epochs) {
      clear();
      out.write(`${epochLine(record, epochs)}\n`);
      lastPlain = now();
    },
    note(text) {
      clear();
      out.write(`${text}\n`);
    },
    close() {
      clear();
    },
  };
}

/** For callers that want no output (tests, --json runs that log elsewhere). */
export const silentProgress: ProgressReporter = { step() {}, epoch() {}, note() {}, close() {} };
