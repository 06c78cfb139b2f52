/** One line of `metrics.jsonl`: what an epoch did. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  learningRate: number;
  steps: number;
  seconds: number;
  /** True when this epoch's monitored loss is the best so far (its weights are the ones kept). */
  improved: boolean;
  time: string;
}
