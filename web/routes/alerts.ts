import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SkywatchError } from '../../core/errors.js';
import { isStreamId, type AlertStream } from '../../queue/alert-stream.js';
import type { AlertHub } from '../alert-hub.js';
import { matches } from '../alert-hub.js';
import type { Guard } from '../auth.js';

const filterSchema = z.object({
  camera: z.string().min(1).max(200).optional(),
  label: z.string().min(1).max(100).optional(),
  minScore: z.coerce.number().min(0).max(1).optional(),
});
const messageSchema = z.discriminatedUnion('type', [
  filterSchema.extend({ type: z.literal('filter') }),
  z.object({ type: z.literal('ping') }),
]);

const PING_MS = 20_000;

/** Alerts over REST (history, snapshots) and the live WebSocket. */
export async function alertRoutes(app: FastifyInstance, options: { stream: AlertStream; hub: AlertHub; viewer: Guard }): Promise<void> {
  const { stream, hub } = options;

  app.get('/v1/alerts', {
    preHandler: options.viewer,
    schema: {
      summary: 'Alerts after `since` (oldest first), or the newest ones (newest first)',
      tags: ['alerts'],
      querystring: { type: 'object', properties: { since: { type: 'string', pattern: '^\\d{1,20}-\\d{1,20}$' }, camera: { type: 'string' }, label: { type: 'string' }, minScore: { type: 'number', minimum: 0, maximum: 1 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, token: { type: 'string' } } },
    },
  }, async (request) => {
    const q = request.query as { since?: string; camera?: string; label?: string; minScore?: number; limit: number };
    const filter = { camera: q.camera, label: q.label, minScore: q.minScore };
    const all = q.since ? await stream.after(q.since, Math.max(q.limit * 5, 500)) : await stream.latest(Math.max(q.limit * 5, 500));
    return { alerts: all.filter((a) => matches(filter, a)).slice(0, q.limit) };
  });

  app.get('/v1/alerts/:id/snapshot.jpg', {
    preHandler: options.viewer,
    schema: { summary: "An alert's snapshot: the frame with the region boxed", tags: ['alerts'], params: { type: 'object', properties: { id: { type: 'string', pattern: '^\\d{1,20}-\\d{1,20}$' } } } },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const jpeg = await stream.snapshot(id);
    if (!jpeg) throw new SkywatchError('ALERT_NOT_FOUND', `no snapshot for alert ${id} (expired or never taken)`);
    return reply.type('image/jpeg').header('cache-control', 'private, max-age=86400').send(jpeg);
  });

  app.get('/v1/alerts/:id/clip.mp4', {
    preHandler: options.viewer,
    schema: { summary: "An alert's evidence clip (MP4, a few seconds of the tracked object); `id` is the alertId", tags: ['alerts'], params: { type: 'object', properties: { id: { type: 'string', pattern: '^\\d{1,20}-\\d{1,20}$' } } } },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const mp4 = await stream.clip(id);
    if (!mp4) throw new SkywatchError('ALERT_NOT_FOUND', `no clip for alert ${id} (expired, not made yet, or clips are off)`);
    return reply.type('video/mp4').header('cache-control', 'private, max-age=60').send(mp4);
  });

  app.get('/v1/alerts/ws', { websocket: true, preHandler: options.viewer, schema: { summary: 'Live alerts (WebSocket): ?since=&camera=&label=&minScore=', tags: ['alerts'] } }, async (socket, request) => {
    const q = request.query as Record<string, string>;
    const parsed = filterSchema.safeParse(q);
    const since = q.since && isStreamId(q.since) ? q.since : null;
    if (!parsed.success || (q.since && !since)) {
      socket.send(JSON.stringify({ type: 'error', code: 'BAD_REQUEST', message: parsed.success ? 'since must be a stream id like 1700000000000-0' : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') }));
      socket.close(1008, 'bad query');
      return;
    }
    const client = await hub.add(socket, parsed.data, since);
    let alive = true;
    socket.on('pong', () => (alive = true));
    const ping = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, PING_MS);
    socket.on('close', () => clearInterval(ping));
    socket.on('message', (raw: Buffer) => {
      let msg;
      try {
        msg = messageSchema.safeParse(JSON.parse(raw.toString('utf8')));
      } catch {
        msg = null;
      }
      if (!msg?.success) return hub.send(client, { type: 'error', code: 'BAD_REQUEST', message: 'messages are {"type":"filter",camera?,label?,minScore?} or {"type":"ping"}' });
      if (msg.data.type === 'ping') return hub.send(client, { type: 'pong' });
      const { type: _t, ...filter } = msg.data;
      hub.setFilter(client, filter);
      hub.send(client, { type: 'filter', filter });
    });
  });
}
