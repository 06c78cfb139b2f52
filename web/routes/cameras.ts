import type { FastifyInstance } from 'fastify';
import { SkywatchError } from '../../core/errors.js';
import { createCamera, patchCamera, publicCamera, type CameraRules } from '../../ingest/camera.js';
import type { CameraRuntime } from '../../ingest/camera-runtime.js';
import type { CameraStore } from '../../ingest/camera-store.js';
import type { Guard } from '../auth.js';

export interface CameraRoutesOptions {
  store: CameraStore;
  /** The local ingestor, or a CameraStatusBoard when ingest runs elsewhere. */
  ingestor: CameraRuntime;
  rules: CameraRules;
  requireAdmin: Guard;
  /** Reading cameras needs a viewer token; without one given, admin is required. */
  requireViewer?: Guard;
}

const motion = {
  type: 'object',
  additionalProperties: false,
  properties: {
    threshold: { type: 'integer', minimum: 1, maximum: 255 },
    minArea: { type: 'integer', minimum: 1 },
    maxRegions: { type: 'integer', minimum: 1, maximum: 64 },
    mergeDistance: { type: 'integer', minimum: 0 },
    detectWidth: { type: 'integer', minimum: 32, maximum: 1280 },
  },
} as const;

const writable = {
  name: { type: 'string', minLength: 1, maxLength: 100 },
  url: { type: 'string', minLength: 1, maxLength: 2048, description: 'rtsp://, rtsps://, http(s):// (MJPEG, HLS, or a video file on a web server, played as a file camera), or a file path on the server (allowed without tokens, or as ingest.allowFileUrls says). Credentials are stored, never returned.' },
  cropUrl: { type: ['string', 'null'], maxLength: 2048, description: 'optional second, higher-resolution stream of the same view (e.g. the RTSP main stream beside a sub stream in `url`): small objects are cropped from it while motion runs on `url`. Same rules and masking as `url`; null (PATCH) removes it.' },
  fps: { type: 'number', minimum: 0.1, maximum: 60 },
  enabled: { type: 'boolean' },
  width: { type: 'integer', minimum: 32, maximum: 3840, description: 'decode width; height follows the aspect' },
  motion,
  loop: { type: 'boolean', description: 'file cameras (a path, or a video file on a web server): false plays the file once, then the camera reports `ended` and holds no slot (a PATCH plays it again; default true: played again and again, each pass from a fresh start)' },
  // Checked in detail by ingest/camera.ts, whose errors name the exact field (alertZones[1][0]).
  motionMasks: { type: 'array', description: 'polygons motion ignores: [[[x, y], ...], ...], 0..1 of the frame, 3..64 points' },
  alertZones: { type: 'array', description: 'polygons objects must be inside to alert (empty: the whole frame)' },
  threshold: { type: 'number', description: 'alert threshold for this camera, 0..1 (default alerts.threshold)' },
  labels: { type: 'array', description: 'labels that alert on this camera (default ["drone"])' },
} as const;

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } } } as const;

/** Cameras over HTTP. Bodies are validated here (JSON schema) and again by ingest's rules (schemes). */
export async function camerasRoutes(app: FastifyInstance, options: CameraRoutesOptions): Promise<void> {
  const { store, ingestor, rules } = options;
  const viewer = options.requireViewer ?? options.requireAdmin;
  // The change is in the store when the answer goes out; the ingestor picks it up on a pass that is
  // started now but not waited for (a pass with many failing cameras can take seconds).
  const poke = () => void ingestor.refresh().catch((err: unknown) => app.log.warn({ err }, 'ingest refresh failed'));

  const view = async (id: string) => {
    const camera = await store.get(id);
    if (!camera) throw new SkywatchError('CAMERA_NOT_FOUND', `no camera ${id}`);
    return { ...publicCamera(camera), status: await ingestor.status(id) };
  };

  app.post('/v1/cameras', {
    onRequest: options.requireAdmin,
    schema: { summary: 'Add a camera', tags: ['cameras'], body: { type: 'object', required: ['name', 'url'], additionalProperties: false, properties: writable } },
  }, async (request, reply) => {
    const camera = createCamera(request.body, rules);
    if (rules.maxCameras !== undefined) {
      // Recordings that played to their end hold nothing: they do not count.
      const ended = await ingestor.ended();
      const counted = (await store.list()).filter((c) => ended.get(c.id) !== c.updatedAt).length;
      if (counted >= rules.maxCameras) throw new SkywatchError('CAMERA_LIMIT', `at most ${rules.maxCameras} cameras besides recordings that have ended (ingest.maxCameras)`, { limit: rules.maxCameras });
    }
    await store.create(camera);
    request.log.info({ camera: camera.id, url: publicCamera(camera).url }, 'camera added');
    poke();
    return reply.status(201).send({ ...publicCamera(camera), status: await ingestor.status(camera.id) });
  });

  app.get('/v1/cameras', { onRequest: viewer, schema: { summary: 'Cameras with their status', tags: ['cameras'] } }, async () => {
    const cameras = await store.list();
    return { cameras: await Promise.all(cameras.map(async (c) => ({ ...publicCamera(c), status: await ingestor.status(c.id) }))) };
  });

  app.get('/v1/cameras/:id', { onRequest: viewer, schema: { summary: 'One camera with its status', tags: ['cameras'], params: idParam } }, async (request) => {
    return view((request.params as { id: string }).id);
  });

  app.patch('/v1/cameras/:id', {
    onRequest: options.requireAdmin,
    schema: { summary: 'Change a camera (it restarts with the new settings)', tags: ['cameras'], params: idParam, body: { type: 'object', additionalProperties: false, minProperties: 1, properties: writable } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const camera = await store.get(id);
    if (!camera) throw new SkywatchError('CAMERA_NOT_FOUND', `no camera ${id}`);
    const next = patchCamera(camera, request.body, rules);
    if (!(await store.update(next))) throw new SkywatchError('CAMERA_NOT_FOUND', `camera ${id} was deleted`);
    // A recording that had ended plays again with its new settings.
    await ingestor.forgetEnded(id);
    poke();
    return view(id);
  });

  app.delete('/v1/cameras/:id', { onRequest: options.requireAdmin, schema: { summary: 'Remove a camera (its ffmpeg stops)', tags: ['cameras'], params: idParam } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!(await store.delete(id))) throw new SkywatchError('CAMERA_NOT_FOUND', `no camera ${id}`);
    await ingestor.forgetEnded(id);
    poke();
    return reply.status(204).send();
  });

  app.get('/v1/cameras/:id/snapshot.jpg', { onRequest: viewer, schema: { summary: 'Latest frame of a camera (JPEG)', tags: ['cameras'], params: idParam } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!(await store.get(id))) throw new SkywatchError('CAMERA_NOT_FOUND', `no camera ${id}`);
    const jpeg = await ingestor.snapshot(id);
    if (!jpeg) throw new SkywatchError('NOT_FOUND', `camera ${id} has no frame yet`);
    return reply.type('image/jpeg').header('cache-control', 'no-store').send(jpeg);
  });
}
