import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small server of the GCS JSON API subset Skywatch's GcsStore uses, with the real API's paths,
 * object resource fields, error body and status codes: media, multipart and resumable uploads,
 * `alt=media` downloads, object metadata, paginated listing by prefix, delete, and the
 * `ifGenerationMatch` / `ifGenerationNotMatch` preconditions (412 conditionNotMet).
 */
interface StoredObject {
  data: Buffer;
  generation: number;
  metageneration: number;
  contentType: string;
  updated: string;
  created: string;
}

export interface GcsServer {
  url: string;
  objects: Map<string, StoredObject>;
  requests: string[];
  stop(): Promise<void>;
}

const PAGE = 3;

export async function startGcsServer(): Promise<GcsServer> {
  const objects = new Map<string, StoredObject>();
  const sessions = new Map<string, { bucket: string; name: string; contentType: string; query: URLSearchParams }>();
  const requests: string[] = [];
  let generationClock = Date.now() * 1000;

  const resource = (bucket: string, name: string, o: StoredObject) => ({
    kind: 'storage#object',
    id: `${bucket}/${name}/${o.generation}`,
    selfLink: `/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`,
    name,
    bucket,
    generation: String(o.generation),
    metageneration: String(o.metageneration),
    contentType: o.contentType,
    size: String(o.data.length),
    md5Hash: createHash('md5').update(o.data).digest('base64'),
    timeCreated: o.created,
    updated: o.updated,
  });

  const fail = (res: ServerResponse, status: number, reason: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify({ error: { code: status, message, errors: [{ message, domain: 'global', reason }] } }));
  };

  const preconditionFails = (q: URLSearchParams, existing: StoredObject | undefined): boolean => {
    const match = q.get('ifGenerationMatch');
    if (match !== null && Number(match) !== (existing?.generation ?? 0)) return true;
    const notMatch = q.get('ifGenerationNotMatch');
    return notMatch !== null && Number(notMatch) === (existing?.generation ?? 0);
  };

  const store = (res: ServerResponse, bucket: string, name: string, data: Buffer, contentType: string, q: URLSearchParams) => {
    const key = `${bucket}/${name}`;
    const existing = objects.get(key);
    if (preconditionFails(q, existing)) return fail(res, 412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
    const now = new Date().toISOString();
    const obj: StoredObject = { data, generation: ++generationClock, metageneration: 1, contentType, updated: now, created: now };
    objects.set(key, obj);
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify(resource(bucket, name, obj)));
  };

  const body = async (req: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const q = url.searchParams;
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      const raw = await body(req);
      let m: RegExpExecArray | null;
      if (req.method === 'POST' && (m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname))) {
        const bucket = decodeURIComponent(m[1]);
        const type = q.get('uploadType');
        if (type === 'media') return store(res, bucket, q.get('name') ?? '', raw, String(req.headers['content-type'] ?? 'application/octet-stream'), q);
        if (type === 'multipart') {
          const boundary = /boundary="?([^";]+)"?/.exec(String(req.headers['content-type']))?.[1];
          if (!boundary) return fail(res, 400, 'invalid', 'multipart upload without a boundary');
          const parts = splitMultipart(raw, boundary);
          if (parts.length < 2) return fail(res, 400, 'invalid', 'multipart upload needs metadata and media parts');
          const meta = JSON.parse(parts[0].body.toString()) as { name?: string; contentType?: string };
          const name = meta.name ?? q.get('name') ?? '';
          return store(res, bucket, name, parts[1].body, meta.contentType ?? parts[1].contentType ?? 'application/octet-stream', q);
        }
        if (type === 'resumable') {
          const meta = raw.length ? (JSON.parse(raw.toString()) as { name?: string; contentType?: string }) : {};
          const id = randomUUID();
          sessions.set(id, { bucket, name: meta.name ?? q.get('name') ?? '', contentType: meta.contentType ?? 'application/octet-stream', query: q });
          res.writeHead(200, { location: `http://${req.headers.host}/upload/storage/v1/b/${m[1]}/o?uploadType=resumable&upload_id=${id}` });
          return res.end();
        }
        return fail(res, 400, 'invalid', `unsupported uploadType ${type}`);
      }
      if (req.method === 'PUT' && q.get('upload_id')) {
        const session = sessions.get(q.get('upload_id')!);
        if (!session) return fail(res, 404, 'notFound', 'No such upload session.');
        sessions.delete(q.get('upload_id')!);
        return store(res, session.bucket, session.name, raw, session.contentType, session.query);
      }
      if ((m = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname))) {
        const bucket = decodeURIComponent(m[1]);
        const name = decodeURIComponent(m[2]);
        const obj = objects.get(`${bucket}/${name}`);
        if (req.method === 'DELETE') {
          if (!obj) return fail(res, 404, 'notFound', `No such object: ${bucket}/${name}`);
          if (preconditionFails(q, obj)) return fail(res, 412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
          objects.delete(`${bucket}/${name}`);
          res.writeHead(204);
          return res.end();
        }
        if (req.method === 'GET') {
          if (!obj) return fail(res, 404, 'notFound', `No such object: ${bucket}/${name}`);
          if (q.get('alt') === 'media') {
            res.writeHead(200, { 'content-type': obj.contentType, 'content-length': obj.data.length, 'x-goog-generation': String(obj.generation) });
            return res.end(obj.data);
          }
          res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
          return res.end(JSON.stringify(resource(bucket, name, obj)));
        }
      }
      if (req.method === 'GET' && (m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname))) {
        const bucket = decodeURIComponent(m[1]);
        const prefix = q.get('prefix') ?? '';
        const names = [...objects.keys()].filter((k) => k.startsWith(`${bucket}/${prefix}`)).map((k) => k.slice(bucket.length + 1)).sort();
        const start = Number(q.get('pageToken') ?? 0);
        const size = Math.min(Number(q.get('maxResults') ?? PAGE), PAGE);
        const page = names.slice(start, start + size);
        res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
        return res.end(JSON.stringify({
          kind: 'storage#objects',
          ...(page.length ? { items: page.map((n) => resource(bucket, n, objects.get(`${bucket}/${n}`)!)) } : {}),
          ...(start + size < names.length ? { nextPageToken: String(start + size) } : {}),
        }));
      }
      fail(res, 404, 'notFound', `Not Found: ${req.method} ${url.pathname}`);
    })().catch((err: Error) => fail(res, 500, 'backendError', err.message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    objects,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function splitMultipart(raw: Buffer, boundary: string): Array<{ contentType?: string; body: Buffer }> {
  const marker = Buffer.from(`--${boundary}`);
  const parts: Array<{ contentType?: string; body: Buffer }> = [];
  let pos = raw.indexOf(marker);
  while (pos >= 0) {
    const next = raw.indexOf(marker, pos + marker.length);
    if (next < 0) break;
    const chunk = raw.subarray(pos + marker.length, next);
    const headerEnd = chunk.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const headers = chunk.subarray(0, headerEnd).toString();
      let bodyPart = chunk.subarray(headerEnd + 4);
      if (bodyPart.subarray(-2).toString() === '\r\n') bodyPart = bodyPart.subarray(0, -2);
      parts.push({ contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1], body: bodyPart });
    }
    pos = next;
  }
  return parts;
}
