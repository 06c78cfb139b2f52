import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Guard } from '../auth.js';
import { SkywatchError } from '../../core/errors.js';
import { predictClipUpload, type ClipLimits } from '../../inference/clip-upload.js';
import type { ModelHolder } from '../../inference/model-holder.js';
import type { Predictor } from '../../inference/predictor.js';
import { multipartFiles } from '../multipart-files.js';

const CLIP_TYPES = /^(video\/(mp4|webm|quicktime|x-matroska)|application\/(x-npz|zip))$/;

/**
 * The clip of a request: a raw body of a clip type, or the one `file` part of a multipart body (as
 * `curl -F file=@clip.mp4` and browsers send it, the way /v1/predict takes images); what it holds is
 * told by its bytes (predictClipUpload), not by the part's declared type.
 */
async function clipOf(request: FastifyRequest, maxBytes: number): Promise<Buffer> {
  if (request.isMultipart()) {
    const [clip] = await multipartFiles(request, { files: 1, totalBytes: maxBytes, fileBytes: maxBytes, noun: 'clip', fileLimitName: 'api.clipMaxBytes', totalLimitName: 'api.clipMaxBytes' });
    return clip;
  }
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (!CLIP_TYPES.test(type)) throw new SkywatchError('UNSUPPORTED_MEDIA_TYPE', 'send the clip as multipart/form-data (field `file`) or as a raw video/mp4, video/webm, video/quicktime or application/x-npz body');
  if (!Buffer.isBuffer(request.body)) throw new SkywatchError('CLIP_INVALID', 'the body is empty');
  return request.body;
}

/**
 * POST /v1/predict/clip: a short video (raw body, video/mp4, video/webm or video/quicktime) or an
 * .npz with `frames` [T,H,W,3] uint8 (application/x-npz, frames taken at ?fps=) through the same motion
 * -> tracks -> crop model -> verdict pipeline as the cameras, offline. Limits: config api.clip*.
 */
export async function predictClipRoutes(app: FastifyInstance, options: { holder: ModelHolder; predictor: Predictor; viewer: Guard; limits: ClipLimits }): Promise<void> {
  // Scoped to this plugin: a clip body may be larger than an image body.
  app.addContentTypeParser(CLIP_TYPES, { parseAs: 'buffer', bodyLimit: options.limits.maxBytes }, (_req, body, done) => done(null, body));
  app.post('/v1/predict/clip', {
    preHandler: options.viewer,
    bodyLimit: options.limits.maxBytes,
    schema: {
      summary: 'Run a short clip through the camera pipeline (motion, tracks, verdicts)',
      description: 'Multipart (field `file`) or raw body: MP4, WebM or QuickTime video, or an .npz holding `frames` [T,H,W,3] uint8 (its rate given by ?fps=, default the model\'s). Answers the confirmed tracks with boxes, times and verdicts, and whether the clip holds a drone.',
      tags: ['predict'],
      querystring: { type: 'object', properties: { fps: { type: 'number', minimum: 0.5, maximum: 30 }, token: { type: 'string' } } },
    },
  }, async (request) => {
    const clip = await clipOf(request, options.limits.maxBytes);
    const { fps } = request.query as { fps?: number };
    const controller = new AbortController();
    request.raw.on('close', () => {
      if (request.raw.destroyed && !request.raw.complete) controller.abort();
    });
    return predictClipUpload(clip, { holder: options.holder, predictor: options.predictor }, options.limits, { ...(fps ? { fps } : {}), signal: controller.signal });
  });
}
