import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type SummarySource = () => Record<string, unknown> | Promise<Record<string, unknown>>;

/** The server's Prometheus metrics, in a registry of its own (several servers can share a process). */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'skywatch_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'method', 'status'], registers: [this.registry] });
  readonly latency = new Histogram({ name: 'skywatch_http_request_seconds', help: 'HTTP request latency', labelNames: ['route'], buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5], registers: [this.registry] });
  readonly queueWait = new Histogram({ name: 'skywatch_inference_queue_seconds', help: 'Time a request waited for its batch', buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5], registers: [this.registry] });
  readonly inference = new Histogram({ name: 'skywatch_inference_seconds', help: 'ONNX Runtime time of a batch', buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1], registers: [this.registry] });
  readonly batchSize = new Histogram({ name: 'skywatch_inference_batch_size', help: 'Images per inference batch', buckets: [1, 2, 4, 8, 16, 32, 64], registers: [this.registry] });
  readonly predictions = new Counter({ name: 'skywatch_predictions_total', help: 'Predictions by label', labelNames: ['label'], registers: [this.registry] });
  readonly errors = new Counter({ name: 'skywatch_errors_total', help: 'Error answers by code', labelNames: ['code'], registers: [this.registry] });
  readonly modelInfo = new Gauge({ name: 'skywatch_model_loaded', help: 'The model version being served (1 for the loaded one)', labelNames: ['version'], registers: [this.registry] });
  readonly reloads = new Counter({ name: 'skywatch_model_reloads_total', help: 'Model reload checks by outcome', labelNames: ['outcome'], registers: [this.registry] });
  private readonly summaries = new Map<string, SummarySource>();
  private batches = { count: 0, images: 0, inferSeconds: 0 };
  private predicted = 0;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'skywatch_' });
  }

  observeBatch(size: number, inferMs: number): void {
    this.batchSize.observe(size);
    this.inference.observe(inferMs / 1000);
    this.batches.count++;
    this.batches.images += size;
    this.batches.inferSeconds += inferMs / 1000;
  }

  countPrediction(label: string): void {
    this.predictions.inc({ label });
    this.predicted++;
  }

  setModel(version: string | null): void {
    this.modelInfo.reset();
    if (version) this.modelInfo.set({ version }, 1);
  }

  /** Other parts (queue, ingest) add their numbers to the dashboard's summary under a name. */
  registerSummarySource(name: string, source: SummarySource): void {
    this.summaries.set(name, source);
  }

  async summary(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {
      serving: {
        predictions: this.predicted,
        batches: this.batches.count,
        meanBatchSize: this.batches.count ? this.batches.images / this.batches.count : 0,
        meanInferenceMs: this.batches.count ? (1000 * this.batches.inferSeconds) / this.batches.count : 0,
        rssMb: Math.round(process.memoryUsage().rss / 1048576),
      },
    };
    for (const [name, source] of this.summaries) {
      try {
        // A source backed by Redis must not hold the summary open while Redis is away.
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error('no answer within 2 s')), 2_000)));
        // (then(): a source that throws at once still clears the timer)
        out[name] = await Promise.race([Promise.resolve().then(() => source()), late]).finally(() => clearTimeout(timer));
      } catch (err) {
        out[name] = { error: (err as Error).message };
      }
    }
    return out;
  }
}
