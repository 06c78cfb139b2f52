import type { FastifyError, FastifyInstance } from 'fastify';
import { ERRORS, SkywatchError, errorBody, isSkywatchError, type ErrorCode } from '../core/errors.js';
import type { ServerMetrics } from './metrics.js';

/** fastify's and its plugins' own error codes, mapped onto ours so every answer has the one shape. */
const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_REQ_FILE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_PARTS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FILES_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_VALIDATION: 'BAD_REQUEST',
};

export function installErrorHandler(app: FastifyInstance, metrics: ServerMetrics): void {
  app.setErrorHandler((error: FastifyError | SkywatchError, request, reply) => {
    let err: SkywatchError;
    if (isSkywatchError(error)) err = error;
    else {
      const mapped = (error.code && FRAMEWORK_CODES[error.code]) || (error.validation ? 'BAD_REQUEST' : undefined) || (error.statusCode === 429 ? 'RATE_LIMITED' : undefined);
      if (mapped) err = new SkywatchError(mapped, error.message);
      // Redis refusing an id it cannot represent (`since=99999999999999999999-0`) is a bad request.
      else if (/Invalid stream ID/i.test(error.message ?? '')) err = new SkywatchError('BAD_REQUEST', 'not a valid stream id (milliseconds-sequence, each below 2^64)');
      else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) err = new SkywatchError('BAD_REQUEST', error.message);
      else {
        request.log.error({ err: error }, 'unexpected error');
        err = new SkywatchError('INTERNAL', 'internal error');
      }
    }
    metrics.errors.inc({ code: err.code });
    void reply.status(ERRORS[err.code].status).send(err.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    metrics.errors.inc({ code: 'NOT_FOUND' });
    void reply.status(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
