import path from 'node:path';
import { EventEmitter } from 'node:events';
import { SkywatchError, isSkywatchError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { photoManifest, type ModelManifest } from '../core/model/manifest.js';
import type { ModelRegistry } from '../core/model/registry.js';
import { MeanVerdict } from '../tracking/mean-verdict.js';
import type { VerdictModel } from '../tracking/verdict-model.js';
import { OnnxModel, type SessionThreads } from './onnx-model.js';
import { OnnxTrackVerdict } from './onnx-track-verdict.js';

/** A loaded model and how many requests are using it; released when swapped out and idle. */
export class LoadedModel {
  private users = 0;
  private retired = false;

  /** How a track's crop scores become its verdict: the track model, or the mean for a photo model. */
  readonly verdict: VerdictModel;

  /**
   * What whole photographs are classified with: the version's photo model when it has one (its own
   * labels and input, under this version), else this model. Camera crops always use this model.
   */
  readonly photo: LoadedModel;

  constructor(readonly model: OnnxModel, readonly manifest: ModelManifest, readonly loadedAt: Date, verdict?: OnnxTrackVerdict, photo?: OnnxModel) {
    this.verdict = verdict ?? new MeanVerdict(manifest.labels);
    this.trackVerdict = verdict ?? null;
    const photoSpec = photoManifest(manifest);
    this.photoModel = photo && photoSpec ? new LoadedModel(photo, photoSpec, loadedAt) : null;
    this.photo = this.photoModel ?? this;
  }

  private readonly trackVerdict: OnnxTrackVerdict | null;
  private readonly photoModel: LoadedModel | null;

  private free(): void {
    void this.model.release();
    void this.trackVerdict?.release();
    // Its users are this model's users (a lease is taken on this one), so it goes with it.
    this.photoModel?.retire();
  }

  get version(): string {
    return this.manifest.version;
  }

  acquire(): this {
    this.users++;
    return this;
  }

  release(): void {
    this.users--;
    if (this.retired && this.users === 0) this.free();
  }

  /** No new users; the session is freed when the last one finishes. */
  retire(): void {
    this.retired = true;
    if (this.users === 0) this.free();
  }

  get inUse(): number {
    return this.users;
  }
}

const MODEL_FAULTS = new Set<string>(['MODEL_INVALID', 'MODEL_CHECKSUM', 'MODEL_OUTPUT_MISMATCH']);

/** Answers are reported by label name, so the names must be usable as keys. */
function checkLabels(manifest: ModelManifest): void {
  const { labels } = manifest;
  if (new Set(labels).size !== labels.length) throw new SkywatchError('MODEL_OUTPUT_MISMATCH', `manifest labels repeat: ${labels.join(', ')}`);
}

async function warm(model: OnnxModel, batch: number): Promise<void> {
  try {
    await model.warmup(batch);
  } catch (err) {
    if (isSkywatchError(err)) throw err;
    throw new SkywatchError('MODEL_INVALID', `model failed a warm-up run of batch ${batch}: ${(err as Error).message}`, undefined, { cause: err });
  }
}

export type ReloadOutcome = 'loaded' | 'unchanged' | 'none' | 'failed';

export interface ModelHolderOptions {
  registry: ModelRegistry;
  cacheDir: string;
  threads: SessionThreads;
  pollIntervalMs: number;
  logger: Logger;
}

/**
 * Serves the registry's latest model and follows it: on every poll (or forced reload) a new version is
 * downloaded, checked against its sha256, loaded, warmed up and checked against its manifest before
 * it is swapped in. Requests hold the model they started with until they finish; a model that fails
 * any step is refused and the old one keeps serving.
 */
export class ModelHolder extends EventEmitter {
  private loaded: LoadedModel | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private reloading: Promise<ReloadOutcome> | null = null;
  private refused = new Set<string>();
  lastError: string | null = null;
  lastCheck: Date | null = null;

  constructor(private readonly options: ModelHolderOptions) {
    super();
  }

  /** The model new requests should use, with a reference the caller must release. */
  acquire(): LoadedModel {
    if (!this.loaded) throw new SkywatchError('NO_MODEL', 'no model is loaded yet: publish one with `skywatch train --publish`');
    return this.loaded.acquire();
  }

  get current(): LoadedModel | null {
    return this.loaded;
  }

  start(): void {
    void this.reload();
    this.timer ??= setInterval(() => void this.reload(), this.options.pollIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.reloading;
    this.loaded?.retire();
    this.loaded = null;
  }

  /** One check of latest.json; concurrent calls share it. */
  reload(force = false): Promise<ReloadOutcome> {
    this.reloading ??= this.check(force).finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private async check(force: boolean): Promise<ReloadOutcome> {
    const { registry, logger } = this.options;
    this.lastCheck = new Date();
    let pointer;
    try {
      pointer = await registry.latest();
    } catch (err) {
      return this.fail(null, err);
    }
    if (!pointer) return this.outcome('none');
    // The same version is loaded again only if its inference thread has died.
    if (this.loaded?.version === pointer.version && this.loaded.manifest.sha256 === pointer.sha256 && this.loaded.model.healthy) return this.outcome('unchanged');
    // A version that failed once is not retried on every poll, only when forced.
    const key = `${pointer.version}:${pointer.sha256}`;
    if (this.refused.has(key) && !force) return this.outcome('unchanged');
    let candidate: OnnxModel | null = null;
    let verdict: OnnxTrackVerdict | undefined;
    let photo: OnnxModel | null = null;
    try {
      const { modelPath, manifest } = await registry.fetch(pointer.version, path.resolve(this.options.cacheDir));
      if (manifest.sha256 !== pointer.sha256) throw new SkywatchError('MODEL_CHECKSUM', `latest.json names sha256 ${pointer.sha256} but the manifest says ${manifest.sha256}`);
      checkLabels(manifest);
      // Off the event loop: requests keep being read and decoded while a batch runs.
      candidate = await OnnxModel.load(modelPath, manifest, { ...this.options.threads, offThread: true });
      // Batch sizes 1 and 2 check that the batch axis is really dynamic and the outputs match the labels.
      await warm(candidate, 1);
      await warm(candidate, 2);
      if (manifest.track) verdict = await OnnxTrackVerdict.load(path.join(path.dirname(modelPath), manifest.track.file), manifest.track, manifest.labels);
      const photoSpec = photoManifest(manifest);
      if (manifest.photo && photoSpec) {
        checkLabels(photoSpec);
        photo = await OnnxModel.load(path.join(path.dirname(modelPath), manifest.photo.file), photoSpec, { ...this.options.threads, offThread: true });
        await warm(photo, 1);
        await warm(photo, 2);
      }
      const previous = this.loaded;
      this.loaded = new LoadedModel(candidate, manifest, new Date(), verdict, photo ?? undefined);
      previous?.retire();
      this.refused.delete(key);
      this.lastError = null;
      logger.info({ version: manifest.version, previous: previous?.version ?? null }, `serving model ${manifest.version}`);
      this.emit('swap', manifest, previous?.manifest ?? null);
      return this.outcome('loaded');
    } catch (err) {
      await candidate?.release();
      await verdict?.release();
      await photo?.release();
      // Only a model that is itself bad is remembered; storage hiccups are retried on the next poll.
      if (isSkywatchError(err) && MODEL_FAULTS.has(err.code)) this.refused.add(key);
      return this.fail(pointer.version, err);
    }
  }

  private outcome(outcome: ReloadOutcome): ReloadOutcome {
    this.emit('reload', outcome);
    return outcome;
  }

  private fail(version: string | null, err: unknown): ReloadOutcome {
    this.lastError = `${isSkywatchError(err) ? `${err.code}: ` : ''}${(err as Error).message}`;
    this.options.logger.error({ err, version, serving: this.loaded?.version ?? null }, `model ${version ?? '(registry)'} refused; ${this.loaded ? `still serving ${this.loaded.version}` : 'no model is loaded'}`);
    this.emit('refused', version, this.lastError);
    return this.outcome('failed');
  }
}
