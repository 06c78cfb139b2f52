import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SkywatchError } from '../../core/errors.js';
import { REVIEW_ACTIONS, type AlertRecord, type ReviewVerdict } from '../../review/alert-record.js';
import type { AlertRecordRepository } from '../../review/alert-record-repository.js';
import { cookieOf, requestRole, SESSION_COOKIE, tokenOf, type Guard } from '../auth.js';

export interface ReviewRoutesOptions {
  repo: AlertRecordRepository;
  viewer: Guard;
  admin: Guard;
  /** Labels an operator may give ("it was a <label>"): the model's labels; `other` is always allowed. */
  labels: () => string[];
  /** Saves the judged alert's crops into the feedback data set (absent: reviews are only recorded). */
  feedback?: (record: AlertRecord, verdict: ReviewVerdict) => Promise<unknown>;
  now?: () => number;
}

const alertIdParam = { type: 'object', required: ['alertId'], properties: { alertId: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' } } } as const;

const boolText = z.enum(['true', 'false']).transform((v) => v === 'true');
const time = z.union([z.coerce.number().int().min(0), z.string().datetime({ offset: true }).transform((s) => Date.parse(s))]);
const querySchema = z.object({
  camera: z.string().min(1).max(200).optional(),
  label: z.string().min(1).max(100).optional(),
  minScore: z.coerce.number().min(0).max(1).optional(),
  from: time.optional(),
  to: time.optional(),
  reviewed: boolText.optional(),
  uncertain: boolText.optional(),
  cursor: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  token: z.string().optional(),
}).strict();

const bodySchema = z.object({
  action: z.enum(REVIEW_ACTIONS),
  label: z.string().trim().min(1).max(100).optional(),
  note: z.string().trim().max(1000).optional(),
}).strict();

function invalid(err: z.ZodError): SkywatchError {
  const first = err.issues[0];
  return new SkywatchError('BAD_REQUEST', err.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '), { field: first?.path.join('.') || undefined });
}

/** Who judged: the role and a short fingerprint of the token (never the token itself). */
export function reviewerOf(request: FastifyRequest): string {
  const settings = request.server.skywatchTokens;
  if (!settings) return 'local-admin';
  const { role, presented } = requestRole(settings, request);
  if (!presented) return 'local-admin';
  // The bearer token, else the session cookie: a short hash names who judged, never the secret.
  const secret = tokenOf(request) ?? cookieOf(request, SESSION_COOKIE) ?? '';
  return `${role ?? 'unknown'}:${createHash('sha256').update(secret).digest('hex').slice(0, 8)}`;
}

/** Alert review: the records listed with filters and paging, one in detail with its snapshot, and verdicts. */
export async function reviewRoutes(app: FastifyInstance, options: ReviewRoutesOptions): Promise<void> {
  const { repo } = options;

  app.get('/v1/review', {
    preHandler: options.viewer,
    schema: {
      summary: 'Alert records, newest first: ?camera=&label=&minScore=&from=&to=&reviewed=&uncertain=&cursor=&limit=',
      tags: ['review'],
      querystring: { type: 'object', additionalProperties: true, properties: { limit: { type: 'string' } } },
    },
  }, async (request) => {
    const parsed = querySchema.safeParse(request.query);
    if (!parsed.success) throw invalid(parsed.error);
    const { token: _t, ...q } = parsed.data;
    if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw new SkywatchError('BAD_REQUEST', 'from is after to', { field: 'from' });
    return repo.list(q);
  });

  app.get('/v1/review/:alertId', { preHandler: options.viewer, schema: { summary: 'One alert record with its reviews', tags: ['review'], params: alertIdParam } }, async (request) => {
    const { alertId } = request.params as { alertId: string };
    const record = await repo.get(alertId);
    if (!record) throw new SkywatchError('ALERT_NOT_FOUND', `no alert record ${alertId}`);
    return { ...record, reviews: await repo.reviews(alertId) };
  });

  app.get('/v1/review/:alertId/snapshot.jpg', { preHandler: options.viewer, schema: { summary: "The alert's best snapshot (full frame, box drawn)", tags: ['review'], params: alertIdParam } }, async (request, reply) => {
    const { alertId } = request.params as { alertId: string };
    const jpeg = await repo.snapshot(alertId);
    if (!jpeg) throw new SkywatchError('ALERT_NOT_FOUND', `no snapshot kept for alert ${alertId}`);
    return reply.type('image/jpeg').header('cache-control', 'private, max-age=86400').send(jpeg);
  });

  app.post('/v1/review/:alertId', {
    preHandler: options.admin,
    schema: {
      summary: 'Judge an alert: acknowledge, false_alarm, or relabel with the label it was',
      tags: ['review'],
      params: alertIdParam,
      body: { type: 'object', required: ['action'], properties: { action: { type: 'string', enum: [...REVIEW_ACTIONS] }, label: { type: 'string' }, note: { type: 'string' } } },
    },
  }, async (request) => {
    const { alertId } = request.params as { alertId: string };
    const parsed = bodySchema.safeParse(request.body);
    if (!parsed.success) throw invalid(parsed.error);
    const body = parsed.data;
    const known = new Set([...options.labels(), 'other']);
    if (body.action === 'relabel' && !body.label) throw new SkywatchError('BAD_REQUEST', 'a relabel needs the label it was', { field: 'label' });
    if (body.label && !known.has(body.label)) throw new SkywatchError('BAD_REQUEST', `unknown label ${body.label} (known: ${[...known].join(', ')})`, { field: 'label' });
    const verdict: ReviewVerdict = { action: body.action, ...(body.label ? { label: body.label } : {}), ...(body.note ? { note: body.note } : {}), by: reviewerOf(request), at: options.now?.() ?? Date.now() };
    const record = await repo.review(alertId, verdict);
    if (!record) throw new SkywatchError('ALERT_NOT_FOUND', `no alert record ${alertId}`);
    if (options.feedback) await options.feedback(record, verdict);
    return record;
  });
}
