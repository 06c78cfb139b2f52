import { pino, type Logger, type LoggerOptions } from 'pino';
import { redactText } from './redact.js';

export type { Logger };

/** Keys whose values never reach a log line, at any depth pino can address. */
const REDACT_PATHS = [
  'token', '*.token', 'password', '*.password', 'authorization', '*.authorization',
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'apiKey', '*.apiKey',
  'secret', '*.secret', 'credentials', '*.credentials',
];

export interface LoggerSettings {
  level?: string;
  name?: string;
  /** Write somewhere other than stdout (tests capture lines this way). */
  destination?: NodeJS.WritableStream;
}

/**
 * pino with secrets removed: known secret keys are censored and every string value is passed through
 * redactText, so a camera URL with a password, or a bearer token quoted in an error message, is masked
 * wherever it appears.
 */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? process.env.SKYWATCH_LOG_LEVEL ?? 'info',
    name: settings.name ?? 'skywatch',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => scrub(a, 0)) as Parameters<typeof method>);
      },
    },
    serializers: {
      err: (err: unknown) => scrub(pino.stdSerializers.err(err as Error), 0),
    },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    const copy = new Error(redactText(value.message));
    copy.name = value.name;
    copy.stack = value.stack ? redactText(value.stack) : undefined;
    Object.assign(copy, scrub({ ...value }, depth + 1));
    return copy;
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, depth + 1);
  return out;
}

/** A logger that writes nothing, for library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
