import type { ModeContext } from './train-mode.js';

/** The fit-loop options both training modes take from their context. */
export function fitOptionsOf(ctx: ModeContext) {
  const { settings } = ctx;
  return {
    epochs: settings.epochs,
    learningRate: settings.learningRate,
    patience: settings.patience,
    seed: settings.seed,
    signal: ctx.signal,
    progress: ctx.progress,
    onEpoch: ctx.onEpoch,
  };
}
