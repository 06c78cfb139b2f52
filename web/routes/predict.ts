import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Guard } from '../auth.js';
import { SkywatchError } from '../../core/errors.js';
import type { Predictor } from '../../inference/predictor.js';
import type { ServerMetrics } from '../metrics.js';
import { multipartFiles } from '../multipart-files.js';

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

async function imagesOf(request: FastifyRequest, max: number, maxBytes: number): Promise<Buffer[]> {
  if (request.isMultipart()) return multipartFiles(request, { files: max, totalBytes: maxBytes, noun: 'images', fileLimitName: 'api.bodyLimitBytes', totalLimitName: 'api.maxRequestBytes' });
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
