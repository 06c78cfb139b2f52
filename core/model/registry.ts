import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SkywatchError, isSkywatchError } from '../errors.js';
import { sha256, sha256File } from '../hash.js';
import type { BlobStore } from '../storage/blob-store.js';
import { latestSchema, manifestSchema, type LatestPointer, type ModelManifest } from './manifest.js';

export type PromoteMode = 'auto' | 'force' | 'never';

export interface PublishRequest {
  version: string;
  modelPath: string;
  manifest: ModelManifest;
  reportHtml?: string;
  /** Extra files stored beside the model (name -> contents). */
  files?: Record<string, string | Buffer>;
  promote: PromoteMode;
  /** How much worse (absolute test accuracy) a challenger may be and still become latest. */
  margin?: number;
}

export interface PublishDecision {
  version: string;
  promoted: boolean;
  reason: string;
  previous: string | null;
}

export interface ModelListing {
  version: string;
  created: string;
  accuracy: number | null;
  isLatest: boolean;
  status: 'latest' | 'candidate' | 'previous';
}

const LATEST = 'latest.json';
const MAX_CAS_TRIES = 5;
const DEFAULT_MARGIN = 0.01;
const KEEP_PREVIOUS = 20;

/**
 * The model registry over any BlobStore: `models/<version>/{model.onnx,manifest.json,report.html,
 * metrics.json}` and `latest.json`. A version's files are written before `latest.json` moves, and
 * `latest.json` only moves with a generation precondition, so two trainers publishing at once can
 * both add versions but never overwrite each other's pointer update.
 */
export class ModelRegistry {
  constructor(readonly store: BlobStore) {}

  static newVersion(now = new Date()): string {
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    return `${stamp}-${randomBytes(2).toString('hex')}`;
  }

  newVersion(): string {
    return ModelRegistry.newVersion();
  }

  private key(version: string, file: string): string {
    // `.` and `..` are not versions, whatever the schema's characters allow: they are path steps.
    if (version === '.' || version === '..' || !manifestSchema.shape.version.safeParse(version).success) throw new SkywatchError('MODEL_NOT_FOUND', `invalid model version: ${version}`);
    return `models/${version}/${file}`;
  }

  async latest(): Promise<LatestPointer | null> {
    return (await this.readLatest())?.pointer ?? null;
  }

  private async readLatest(): Promise<{ pointer: LatestPointer; generation: string } | null> {
    const info = await this.store.stat(LATEST);
    if (!info) return null;
    let raw: Buffer;
    try {
      raw = await this.store.read(LATEST);
    } catch (err) {
      if (isSkywatchError(err, 'STORAGE_NOT_FOUND')) return null;
      throw err;
    }
    const parsed = latestSchema.safeParse(safeJson(raw));
    if (!parsed.success) throw new SkywatchError('MODEL_INVALID', `latest.json is invalid: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    // The generation read with stat may be older than the content if a write raced in between; the
    // conditional write below then fails and is retried, which is what keeps this safe.
    return { pointer: parsed.data, generation: info.generation };
  }

  /** The manifest of a version, or of the latest with 'latest'. Validated: model files are untrusted. */
  async resolve(version: string): Promise<ModelManifest> {
    const target = version === 'latest' ? (await this.latest())?.version : version;
    if (!target) throw new SkywatchError('MODEL_NOT_FOUND', 'no model has been published yet');
    let raw: Buffer;
    try {
      raw = await this.store.read(this.key(target, 'manifest.json'));
    } catch (err) {
      if (isSkywatchError(err, 'STORAGE_NOT_FOUND')) throw new SkywatchError('MODEL_NOT_FOUND', `model version not found: ${target}`, { version: target });
      throw err;
    }
    const manifest = parseManifest(raw, target);
    // A manifest names the version it belongs to; one copied into another version's folder would
    // make that folder's name move latest.json to a different model.
    if (manifest.version !== target) throw new SkywatchError('MODEL_INVALID', `models/${target}/manifest.json says version ${manifest.version}: a manifest must sit in its own version's folder`, { version: target, manifestVersion: manifest.version });
    return manifest;
  }

  /**
   * Everything that must hold before latest.json may name a version: its manifest is valid and its
   * own, its model file is there and matches the manifest's sha256, and (when given) `load` accepts
   * it (ONNX Runtime opens and runs it). Throws MODEL_INVALID / MODEL_CHECKSUM / MODEL_NOT_FOUND.
   */
  async verify(version: string, load?: ModelLoadCheck): Promise<ModelManifest> {
    const dir = await mkdtemp(path.join(tmpdir(), 'skywatch-verify-'));
    try {
      const { modelPath, manifest } = await this.fetch(version, dir).catch((err: unknown) => {
        if (isSkywatchError(err, 'STORAGE_NOT_FOUND')) throw new SkywatchError('MODEL_INVALID', `model ${version} has no model.onnx`, { version });
        throw err;
      });
      if (load) await load(modelPath, manifest);
      return manifest;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async show(version: string): Promise<{ manifest: ModelManifest; files: string[]; isLatest: boolean }> {
    const manifest = await this.resolve(version);
    const files = (await this.store.list(`models/${manifest.version}/`)).map((o) => o.key.slice(`models/${manifest.version}/`.length));
    return { manifest, files, isLatest: (await this.latest())?.version === manifest.version };
  }

  async readReport(version: string): Promise<string> {
    const manifest = await this.resolve(version);
    try {
      return (await this.store.read(this.key(manifest.version, 'report.html'))).toString('utf8');
    } catch (err) {
      if (isSkywatchError(err, 'STORAGE_NOT_FOUND')) throw new SkywatchError('NOT_FOUND', `model ${manifest.version} has no report`);
      throw err;
    }
  }

  async list(): Promise<ModelListing[]> {
    const latest = await this.latest();
    const objects = await this.store.list('models/');
    const versions = [...new Set(objects.filter((o) => o.key.endsWith('/manifest.json')).map((o) => o.key.split('/')[1]))];
    const out: ModelListing[] = [];
    for (const version of versions) {
      let manifest: ModelManifest;
      try {
        manifest = parseManifest(await this.store.read(this.key(version, 'manifest.json')), version);
      } catch {
        continue;
      }
      const isLatest = latest?.version === version;
      out.push({
        version,
        created: manifest.created,
        accuracy: manifest.metrics?.accuracy ?? null,
        isLatest,
        status: isLatest ? 'latest' : latest?.previous.includes(version) ? 'previous' : 'candidate',
      });
    }
    return out.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : a.version < b.version ? 1 : -1));
  }

  async publish(request: PublishRequest): Promise<PublishDecision> {
    const { version, manifest } = request;
    if (manifest.version !== version) throw new SkywatchError('MODEL_INVALID', `manifest version ${manifest.version} differs from ${version}`);
    const checked = manifestSchema.safeParse(manifest);
    if (!checked.success) throw new SkywatchError('MODEL_INVALID', `manifest is invalid: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const fileSha = await sha256File(request.modelPath);
    if (fileSha !== manifest.sha256) throw new SkywatchError('MODEL_CHECKSUM', `model file sha256 ${fileSha} differs from the manifest's ${manifest.sha256}`);
    if (manifest.photo) {
      // Checked before anything is written: a version whose photo model is missing or wrong would be refused by every worker.
      const photo = request.files?.[manifest.photo.file];
      if (photo === undefined) throw new SkywatchError('MODEL_INVALID', `the manifest names ${manifest.photo.file} but it is not among the files published`);
      const got = sha256(photo);
      if (got !== manifest.photo.sha256) throw new SkywatchError('MODEL_CHECKSUM', `${manifest.photo.file} sha256 ${got} differs from the manifest's ${manifest.photo.sha256}`);
    }
    if (await this.store.stat(this.key(version, 'manifest.json'))) {
      throw new SkywatchError('REGISTRY_CONFLICT', `version ${version} already exists in the registry`, { version });
    }

    // The version's files first; manifest.json last, since its presence is what makes a version exist.
    await this.store.upload(request.modelPath, this.key(version, 'model.onnx'));
    if (request.reportHtml !== undefined) await this.store.write(this.key(version, 'report.html'), request.reportHtml, { contentType: 'text/html' });
    if (manifest.metrics) await this.store.write(this.key(version, 'metrics.json'), JSON.stringify(manifest.metrics, null, 2), { contentType: 'application/json' });
    for (const [name, content] of Object.entries(request.files ?? {})) {
      if (!/^[A-Za-z0-9._-]+$/.test(name) || ['model.onnx', 'manifest.json'].includes(name)) throw new SkywatchError('BAD_REQUEST', `invalid extra file name: ${name}`);
      await this.store.write(this.key(version, name), content);
    }
    await this.store.write(this.key(version, 'manifest.json'), JSON.stringify(manifest, null, 2), { contentType: 'application/json', ifGenerationMatch: '0' });

    if (request.promote === 'never') return { version, promoted: false, reason: 'published as a candidate (promotion not requested)', previous: (await this.latest())?.version ?? null };
    return this.movePointer(version, manifest.sha256, async (current) => {
      if (request.promote === 'force' || !current) return { ok: true, reason: current ? 'forced' : 'first model in the registry' };
      return this.challenge(manifest, current.version, request.margin ?? DEFAULT_MARGIN);
    });
  }

  /** Champion/challenger: no worse than the champion by more than `margin`, on the same test split. */
  private async challenge(challenger: ModelManifest, championVersion: string, margin: number): Promise<{ ok: boolean; reason: string }> {
    let champion: ModelManifest;
    try {
      champion = await this.resolve(championVersion);
    } catch {
      return { ok: true, reason: `current latest ${championVersion} is unreadable; replaced` };
    }
    const a = challenger.metrics;
    const b = champion.metrics;
    if (!a) return { ok: false, reason: 'challenger has no test metrics' };
    if (!b) return { ok: true, reason: `champion ${championVersion} has no test metrics` };
    if (a.splitFingerprint && b.splitFingerprint && a.splitFingerprint !== b.splitFingerprint) {
      return { ok: false, reason: `test splits differ from champion ${championVersion}: accuracies are not comparable (use --force to promote anyway)` };
    }
    const verdict = `accuracy ${fmt(a.accuracy)} vs champion ${championVersion} ${fmt(b.accuracy)} (margin ${fmt(margin)})`;
    return a.accuracy >= b.accuracy - margin ? { ok: true, reason: `promoted: ${verdict}` } : { ok: false, reason: `kept as candidate: ${verdict}` };
  }

  /** Compare-and-swap of latest.json, retried when another writer moved it first. */
  private async movePointer(
    version: string,
    sha: string,
    decide: (current: LatestPointer | null) => Promise<{ ok: boolean; reason: string }>,
  ): Promise<PublishDecision> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.readLatest();
      const decision = await decide(current?.pointer ?? null);
      const previous = current?.pointer.version ?? null;
      if (!decision.ok) return { version, promoted: false, reason: decision.reason, previous };
      const pointer: LatestPointer = {
        version,
        sha256: sha,
        updated: new Date().toISOString(),
        previous: previous && previous !== version ? [previous, ...current!.pointer.previous.filter((v) => v !== version)].slice(0, KEEP_PREVIOUS) : current?.pointer.previous ?? [],
      };
      try {
        await this.store.write(LATEST, JSON.stringify(pointer, null, 2), { contentType: 'application/json', ifGenerationMatch: current?.generation ?? '0' });
        return { version, promoted: true, reason: decision.reason, previous };
      } catch (err) {
        if (!isSkywatchError(err, 'STORAGE_PRECONDITION') || attempt >= MAX_CAS_TRIES) {
          if (isSkywatchError(err, 'STORAGE_PRECONDITION')) throw new SkywatchError('REGISTRY_CONFLICT', 'latest.json kept changing underneath; try again', undefined, { cause: err });
          throw err;
        }
        await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50));
      }
    }
  }

  /** Makes an existing, verified version latest (the old latest goes to the front of `previous`). */
  async promote(version: string, load?: ModelLoadCheck): Promise<PublishDecision> {
    const manifest = await this.verify(version, load);
    return this.movePointer(manifest.version, manifest.sha256, async () => ({ ok: true, reason: `promoted ${manifest.version} by hand` }));
  }

  /** Back to the version latest replaced, verified first like a promotion. */
  async rollback(load?: ModelLoadCheck): Promise<PublishDecision> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.readLatest();
      const target = current?.pointer.previous[0];
      if (!current || !target) throw new SkywatchError('MODEL_NOT_FOUND', 'there is no previous model to roll back to');
      const manifest = await this.verify(target, load);
      const pointer: LatestPointer = { version: target, sha256: manifest.sha256, updated: new Date().toISOString(), previous: current.pointer.previous.slice(1) };
      try {
        await this.store.write(LATEST, JSON.stringify(pointer, null, 2), { contentType: 'application/json', ifGenerationMatch: current.generation });
        return { version: target, promoted: true, reason: `rolled back from ${current.pointer.version}`, previous: current.pointer.version };
      } catch (err) {
        if (!isSkywatchError(err, 'STORAGE_PRECONDITION') || attempt >= MAX_CAS_TRIES) throw err;
      }
    }
  }

  /**
   * Downloads a version into `cacheDir/<version>/` and checks the ONNX file against the manifest's
   * sha256; an already cached, matching file is not downloaded again.
   */
  async fetch(version: string, cacheDir: string): Promise<{ modelPath: string; manifest: ModelManifest }> {
    const manifest = await this.resolve(version);
    const dir = path.join(cacheDir, manifest.version);
    const modelPath = path.join(dir, 'model.onnx');
    await mkdir(dir, { recursive: true });
    if (!(existsSync(modelPath) && (await sha256File(modelPath)) === manifest.sha256)) {
      await this.store.download(this.key(manifest.version, 'model.onnx'), modelPath);
      const got = await sha256File(modelPath);
      if (got !== manifest.sha256) {
        await rm(modelPath, { force: true });
        throw new SkywatchError('MODEL_CHECKSUM', `model ${manifest.version}: sha256 ${got} differs from the manifest's ${manifest.sha256}`, { version: manifest.version });
      }
    }
    if (manifest.track) await this.fetchChecked(manifest.version, manifest.track.file, manifest.track.sha256, dir);
    if (manifest.photo) await this.fetchChecked(manifest.version, manifest.photo.file, manifest.photo.sha256, dir);
    return { modelPath, manifest };
  }

  /** One extra file of a version into `dir`, checked against the sha256 its manifest gives. */
  private async fetchChecked(version: string, name: string, expected: string, dir: string): Promise<string> {
    const file = path.join(dir, name);
    if (existsSync(file) && (await sha256File(file)) === expected) return file;
    await this.store.download(this.key(version, name), file);
    const got = await sha256File(file);
    if (got !== expected) {
      await rm(file, { force: true });
      throw new SkywatchError('MODEL_CHECKSUM', `model ${version}: ${name} has sha256 ${got}, the manifest says ${expected}`, { version });
    }
    return file;
  }
}

/** Reads a local model folder (model.onnx + manifest.json beside it), as `eval --model FILE` does. */
export async function readLocalModel(modelPath: string): Promise<{ modelPath: string; manifest: ModelManifest }> {
  const manifestPath = path.join(path.dirname(modelPath), 'manifest.json');
  let raw: Buffer;
  try {
    raw = await readFile(manifestPath);
  } catch {
    throw new SkywatchError('MODEL_INVALID', `no manifest.json beside ${modelPath}`);
  }
  const manifest = parseManifest(raw, manifestPath);
  const got = await sha256File(modelPath).catch(() => {
    throw new SkywatchError('MODEL_NOT_FOUND', `cannot read ${modelPath}`);
  });
  if (got !== manifest.sha256) throw new SkywatchError('MODEL_CHECKSUM', `${modelPath}: sha256 ${got} differs from its manifest's ${manifest.sha256}`);
  if (manifest.photo) {
    const photoPath = path.join(path.dirname(modelPath), manifest.photo.file);
    const photoSha = await sha256File(photoPath).catch(() => {
      throw new SkywatchError('MODEL_NOT_FOUND', `cannot read ${photoPath}, which the manifest names`);
    });
    if (photoSha !== manifest.photo.sha256) throw new SkywatchError('MODEL_CHECKSUM', `${photoPath}: sha256 ${photoSha} differs from its manifest's ${manifest.photo.sha256}`);
  }
  return { modelPath, manifest };
}

/** A check that a downloaded, checksum-verified model loads (the API passes ONNX Runtime). */
export type ModelLoadCheck = (modelPath: string, manifest: ModelManifest) => Promise<void>;

export function parseManifest(raw: Buffer | string, where: string): ModelManifest {
  const parsed = manifestSchema.safeParse(safeJson(raw));
  if (!parsed.success) {
    throw new SkywatchError('MODEL_INVALID', `manifest of ${where} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

function safeJson(raw: Buffer | string): unknown {
  try {
    return JSON.parse(raw.toString());
  } catch {
    return undefined;
  }
}

function fmt(x: number): string {
  return x.toFixed(4);
}

