import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Guard } from '../auth.js';
import { SkywatchError } from '../../core/errors.js';
import type { Predictor } from '../../inference/predictor.js';
import type { ServerMetrics } from '../metrics.js';

const predictionSchema = {
  type: 'object',
  required: ['label'],
  properties: {
    label: { type: 'string' },
    confidence: { type: 'number' },
    scores: { type: 'object', additionalProperties: { type: 'number' } },
    top: { type: 'array', items: { type: 'object', properties: { label: { type: 'string' }, score: { type: 'number' } } } },
    modelVersion: { type: 'string' },
    inferenceMs: { type: 'number' },
    queueMs: { type: 'number' },
    batchSize: { type: 'integer' },
  },
} as const;

/** Which model answers a whole image (the crop model, and the photo model with it when the version has one). */
const ANSWERED_BY = ' Answered by the served version\'s model.onnx (a track model\'s crop model, over all its labels); when the version also has a photo model, that model splits the crop model\'s share for the labels it learnt from photographs (e.g. bird and drone) between them.';

const errorSchema = { type: 'object', required: ['error'], properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object', additionalProperties: true } } } } } as const;

/**
 * The images of a multipart body. Bounded per file (the multipart plugin's fileSize) and per request
 * (`maxBytes`, all files together), and a part that is not a `file` / `files` upload is refused when
 * it is seen: nothing is buffered that will not be used.
 */
async function multipartImages(request: FastifyRequest, max: number, maxBytes: number): Promise<Buffer[]> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new SkywatchError('PAYLOAD_TOO_LARGE', `a request may hold at most ${maxBytes} bytes (api.maxRequestBytes)`, { limit: maxBytes });
  const out: Buffer[] = [];
  let total = 0;
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file') throw new SkywatchError('BAD_REQUEST', `multipart field \`${part.fieldname}\` is not allowed: send images as \`file\` parts`, { field: part.fieldname });
      if (part.fieldname !== 'file' && part.fieldname !== 'files') throw new SkywatchError('BAD_REQUEST', `multipart part \`${part.fieldname}\` is not allowed: send images as \`file\` parts`, { field: part.fieldname });
      if (out.length >= max) throw new SkywatchError('PAYLOAD_TOO_LARGE', `at most ${max} images per request`);
      const chunks: Buffer[] = [];
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > maxBytes) throw new SkywatchError('PAYLOAD_TOO_LARGE', `a request may hold at most ${maxBytes} bytes (api.maxRequestBytes)`, { limit: maxBytes });
        chunks.push(chunk);
      }
      if (part.file.truncated) throw new SkywatchError('PAYLOAD_TOO_LARGE', 'an image is larger than api.bodyLimitBytes');
      out.push(Buffer.concat(chunks));
    }
  } catch (err) {
    // Limits raised by @fastify/multipart carry their own codes (mapped to 413); anything else from
    // the parser means the body itself is malformed.
    if (err instanceof SkywatchError || (err as { code?: string }).code?.startsWith('FST_')) throw err;
    throw new SkywatchError('BAD_REQUEST', `multipart body is malformed: ${(err as Error).message}`);
  }
  if (out.length === 0) throw new SkywatchError('BAD_REQUEST', 'multipart body has no `file` field');
  return out;
}

async function imagesOf(request: FastifyRequest, max: number, maxBytes: number): Promise<Buffer[]> {
  if (request.isMultipart()) return multipartImages(request, max, maxBytes);
  if (Buffer.isBuffer(request.body)) return [request.body];
  // An image/* request with no body at all never reaches the content-type parser.
  if (request.body == null && /^image\//.test(request.headers['content-type'] ?? '')) throw new SkywatchError('IMAGE_EMPTY');
  throw new SkywatchError('UNSUPPORTED_MEDIA_TYPE', 'send an image as multipart/form-data (field `file`) or as a raw image/* body');
}

export async function predictRoutes(app: FastifyInstance, options: { predictor: Predictor; metrics: ServerMetrics; viewer: Guard; maxBatchImages: number; maxRequestBytes: number }): Promise<void> {
  const { predictor, metrics } = options;
  const topk = { type: 'object', properties: { topk: { type: 'integer', minimum: 1, maximum: 100 } } } as const;

  app.post('/v1/predict', {
    onRequest: options.viewer,
    schema: {
      summary: 'Classify one image',
      description: 'multipart/form-data with field `file`, or a raw image/* body (JPEG, PNG, WebP). EXIF orientation is applied, alpha dropped, greyscale expanded.' + ANSWERED_BY,
      tags: ['predict'],
      querystring: topk,
      response: { 200: predictionSchema, 400: errorSchema, 413: errorSchema, 415: errorSchema, 503: errorSchema },
    },
  }, async (request) => {
    const [image] = await imagesOf(request, 1, options.maxRequestBytes);
    const { topk: k } = request.query as { topk?: number };
    const prediction = await predictor.predict(image, k);
    metrics.countPrediction(prediction.label);
    metrics.queueWait.observe(prediction.queueMs / 1000);
    return prediction;
  });

  app.post('/v1/predict/batch', {
    onRequest: options.viewer,
    schema: {
      summary: 'Classify several images in one request',
      description: 'multipart/form-data with one or more `file` fields; answers in the same order. A bad image answers an error in its slot.' + ANSWERED_BY,
      tags: ['predict'],
      querystring: topk,
      response: { 200: { type: 'object', properties: { predictions: { type: 'array', items: { anyOf: [predictionSchema, errorSchema] } } } } },
    },
  }, async (request) => {
    const images = await imagesOf(request, options.maxBatchImages, options.maxRequestBytes);
    const { topk: k } = request.query as { topk?: number };
    const predictions = await Promise.all(images.map((img) => predictor.predict(img, k).then((p) => {
      metrics.countPrediction(p.label);
      return p;
    }, (err: unknown) => {
      if (err instanceof SkywatchError && err.code !== 'NO_MODEL') return err.toJSON();
      throw err;
    })));
    return { predictions };
  });
}
