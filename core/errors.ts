/**
 * Every error Skywatch raises on purpose is defined once here, with a stable code and the HTTP status
 * the API answers it with. Code elsewhere throws `new SkywatchError('CODE', details)`; nothing else
 * invents codes or statuses.
 */
export const ERRORS = {
  // configuration and start-up
  CONFIG_INVALID: { status: 500, message: 'configuration is invalid' },
  // input validation at the edge
  BAD_REQUEST: { status: 400, message: 'request is invalid' },
  IMAGE_INVALID: { status: 400, message: 'body is not a readable image' },
  IMAGE_EMPTY: { status: 400, message: 'body is empty' },
  IMAGE_TOO_MANY_PIXELS: { status: 400, message: 'image has too many pixels' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported media type' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'payload too large' },
  CAMERA_URL_INVALID: { status: 400, message: 'camera URL is invalid' },
  CLIP_INVALID: { status: 400, message: 'body is not a readable video clip or .npz of frames' },
  CLIP_TOO_LONG: { status: 413, message: 'clip is longer than allowed' },
  CAMERA_URL_SCHEME: { status: 400, message: 'camera URL scheme is not allowed' },
  CAMERA_URL_HOST: { status: 400, message: 'camera URL host is not allowed' },
  CAMERA_LIMIT: { status: 409, message: 'the camera limit is reached' },
  HOST_NOT_ALLOWED: { status: 421, message: 'the Host header does not name this server' },
  ORIGIN_NOT_ALLOWED: { status: 403, message: 'cross-origin request refused' },
  URI_TOO_LONG: { status: 414, message: 'a path parameter is too long' },
  // auth and limits
  UNAUTHORIZED: { status: 401, message: 'a valid token is required' },
  FORBIDDEN: { status: 403, message: 'this token may not do that' },
  RATE_LIMITED: { status: 429, message: 'too many requests' },
  // lookups
  NOT_FOUND: { status: 404, message: 'not found' },
  CAMERA_NOT_FOUND: { status: 404, message: 'camera not found' },
  MODEL_NOT_FOUND: { status: 404, message: 'model version not found' },
  ALERT_NOT_FOUND: { status: 404, message: 'alert not found' },
  // models and serving
  NO_MODEL: { status: 503, message: 'no model is loaded' },
  MODEL_INVALID: { status: 422, message: 'model is invalid' },
  MODEL_CHECKSUM: { status: 422, message: 'model checksum does not match its manifest' },
  MODEL_OUTPUT_MISMATCH: { status: 422, message: 'model outputs do not match its manifest' },
  REGISTRY_CONFLICT: { status: 409, message: 'registry changed underneath this write' },
  SHUTTING_DOWN: { status: 503, message: 'server is shutting down' },
  DEPENDENCY_UNAVAILABLE: { status: 503, message: 'a dependency is unavailable' },
  // storage
  STORAGE_NOT_FOUND: { status: 404, message: 'object not found' },
  STORAGE_PRECONDITION: { status: 412, message: 'object generation precondition failed' },
  STORAGE_URL_INVALID: { status: 400, message: 'storage URL is invalid' },
  STORAGE_IO: { status: 502, message: 'storage request failed' },
  // data and training
  DATA_INVALID: { status: 400, message: 'data set is invalid' },
  DATA_EMPTY: { status: 400, message: 'data set has no usable images' },
  TRAINING_ABORTED: { status: 499, message: 'training was interrupted' },
  BACKEND_UNAVAILABLE: { status: 500, message: 'no TensorFlow.js backend could be initialised' },
  FFMPEG_MISSING: { status: 500, message: 'ffmpeg is not installed' },
  // cameras (reported in a camera's status, never as an API answer)
  CAMERA_FETCH_FAILED: { status: 502, message: 'the camera\'s video file could not be fetched' },
  // anything unexpected
  INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class SkywatchError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message ?? ERRORS[code].message, options);
    this.name = 'SkywatchError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = details;
  }

  toJSON(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export function isSkywatchError(err: unknown, code?: ErrorCode): err is SkywatchError {
  return err instanceof SkywatchError && (code === undefined || err.code === code);
}

/** The one JSON shape of every error answer. */
export function errorBody(code: ErrorCode, message?: string, details?: Record<string, unknown>): ReturnType<SkywatchError['toJSON']> {
  return new SkywatchError(code, message, details).toJSON();
}
