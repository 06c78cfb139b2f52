import type { FastifyRequest } from 'fastify';
import { SkywatchError } from '../core/errors.js';

export interface MultipartFileLimits {
  /** Most `file` parts taken. */
  files: number;
  /** All files together (and the declared Content-Length), bytes. */
  totalBytes: number;
  /** One file, bytes; the multipart plugin's own limit (api.bodyLimitBytes) when absent. */
  fileBytes?: number;
  /** What the files are, for messages: "images", "clip". */
  noun: string;
  /** The settings that bound one file and the request, for the messages. */
  fileLimitName: string;
  totalLimitName: string;
}

/**
 * The files of a multipart body (fields `file` or `files`), for uploads sent as browsers and
 * `curl -F` send them. Bounded per file and per request, and a part that is not such a file is
 * refused when it is seen: nothing is buffered that will not be used.
 */
export async function multipartFiles(request: FastifyRequest, limits: MultipartFileLimits): Promise<Buffer[]> {
  const { noun } = limits;
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limits.totalBytes) throw new SkywatchError('PAYLOAD_TOO_LARGE', `a request may hold at most ${limits.totalBytes} bytes (${limits.totalLimitName})`, { limit: limits.totalBytes });
  const out: Buffer[] = [];
  let total = 0;
  try {
    for await (const part of request.parts(limits.fileBytes ? { limits: { fileSize: limits.fileBytes } } : undefined)) {
      if (part.type !== 'file') throw new SkywatchError('BAD_REQUEST', `multipart field \`${part.fieldname}\` is not allowed: send ${noun} as \`file\` parts`, { field: part.fieldname });
      if (part.fieldname !== 'file' && part.fieldname !== 'files') throw new SkywatchError('BAD_REQUEST', `multipart part \`${part.fieldname}\` is not allowed: send ${noun} as \`file\` parts`, { field: part.fieldname });
      if (out.length >= limits.files) throw new SkywatchError('PAYLOAD_TOO_LARGE', limits.files === 1 ? `one ${noun} per request` : `at most ${limits.files} ${noun} per request`);
      const chunks: Buffer[] = [];
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > limits.totalBytes) throw new SkywatchError('PAYLOAD_TOO_LARGE', `a request may hold at most ${limits.totalBytes} bytes (${limits.totalLimitName})`, { limit: limits.totalBytes });
        chunks.push(chunk);
      }
      if (part.file.truncated) throw new SkywatchError('PAYLOAD_TOO_LARGE', `a file is larger than ${limits.fileLimitName}`);
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
