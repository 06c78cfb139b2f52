import { SkywatchError } from '../../core/errors.js';

/**
 * Quality bars for CI (`skywatch eval --check`): a model that falls below any bar makes the command
 * exit non-zero, so a pipeline stops before a worse model is promoted or deployed.
 */
export interface QualityBars {
  minAccuracy?: number;
  minMacroF1?: number;
  /** Per label: recall (share of that label's items found) must be at least this. */
  minRecall?: Record<string, number>;
  minPrecision?: Record<string, number>;
}

/** The part of a metrics document the gate reads (image metrics and clip metrics both have it). */
export interface GateMetrics {
  accuracy: number;
  macroF1?: number;
  perLabel: Record<string, { precision: number; recall: number }>;
}

export interface GateCheck {
  name: string;
  actual: number;
  bar: number;
  passed: boolean;
}

export interface GateResult {
  passed: boolean;
  checks: GateCheck[];
}

/** Every bar is checked (not only up to the first failure) so the report lists all that failed. */
export function checkQuality(metrics: GateMetrics, bars: QualityBars): GateResult {
  const checks: GateCheck[] = [];
  const add = (name: string, actual: number, bar: number): void => {
    checks.push({ name, actual, bar, passed: actual >= bar });
  };
  if (bars.minAccuracy !== undefined) add('accuracy', metrics.accuracy, bars.minAccuracy);
  if (bars.minMacroF1 !== undefined) {
    if (metrics.macroF1 === undefined) throw new SkywatchError('BAD_REQUEST', 'these metrics have no macro F1 to check');
    add('macroF1', metrics.macroF1, bars.minMacroF1);
  }
  for (const [kind, perLabel] of [['recall', bars.minRecall], ['precision', bars.minPrecision]] as const) {
    for (const [label, bar] of Object.entries(perLabel ?? {})) {
      const m = metrics.perLabel[label];
      // A bar on a label the model does not know would pass silently forever: refuse it instead.
      if (!m) throw new SkywatchError('BAD_REQUEST', `--min-${kind} ${label}: the model has no label "${label}" (labels: ${Object.keys(metrics.perLabel).join(', ')})`);
      add(`${kind}[${label}]`, m[kind], bar);
    }
  }
  if (checks.length === 0) throw new SkywatchError('BAD_REQUEST', '--check needs at least one bar (--min-accuracy, --min-macro-f1, --min-recall LABEL=X or --min-precision LABEL=X)');
  return { passed: checks.every((c) => c.passed), checks };
}

/** Parses one `label=0.9` flag value into the accumulated map (commander's repeatable-option reducer). */
export function parseLabelBar(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const match = /^([^=\s]+)=([0-9.]+)$/.exec(value.trim());
  const bar = match ? Number(match[2]) : Number.NaN;
  if (!match || !Number.isFinite(bar) || bar < 0 || bar > 1) throw new SkywatchError('BAD_REQUEST', `expected LABEL=X with X from 0 to 1, got "${value}"`);
  return { ...previous, [match[1]]: bar };
}

export function parseBar(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new SkywatchError('BAD_REQUEST', `expected a number from 0 to 1, got "${value}"`);
  return n;
}

/** Lines for a terminal: one per bar, failures marked. */
export function formatGate(result: GateResult): string {
  const lines = result.checks.map((c) => `${c.passed ? 'pass' : 'FAIL'} ${c.name.padEnd(22)} ${c.actual.toFixed(4)} (bar ${c.bar.toFixed(4)})`);
  lines.push(result.passed ? 'quality gate: passed' : `quality gate: FAILED (${result.checks.filter((c) => !c.passed).length} of ${result.checks.length} bars)`);
  return lines.join('\n');
}

/** Exit status of a failed gate: distinct from 1 (an error), so CI can tell "worse model" from "broken run". */
export const GATE_FAILED_EXIT = 3;
