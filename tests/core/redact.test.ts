import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { redactText, redactUrl } from '../../core/redact.js';

describe('redaction', () => {
  it('masks URL credentials, bearer tokens and secret query parameters', () => {
    expect(redactText('ffmpeg failed for rtsp://admin:hunter2@10.0.0.5:554/live')).toBe('ffmpeg failed for rtsp://***:***@10.0.0.5:554/live');
    expect(redactText('Authorization: Bearer abc.def-123')).toBe('Authorization: Bearer [redacted]');
    expect(redactText('http://cam/video.mjpg?user=x&password=pw&fps=5')).toBe('http://cam/video.mjpg?user=x&password=[redacted]&fps=5');
    expect(redactUrl('rtsp://u:p@host/stream')).toBe('rtsp://***:***@host/stream');
    expect(redactUrl('rtsp://host/stream')).toBe('rtsp://host/stream');
  });

  it('keeps secrets out of log lines, in messages, fields and errors', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const log = createLogger({ level: 'info', destination: sink });
    log.info({ camera: { url: 'rtsp://bob:s3cret@cam/1' }, token: 'tok-123' }, 'connecting to rtsp://bob:s3cret@cam/1');
    log.error({ err: new Error('401 for http://x:y@h/ with Bearer zzz') }, 'failed');
    const text = lines.join('');
    expect(text).not.toContain('s3cret');
    expect(text).not.toContain('tok-123');
    expect(text).not.toContain('zzz');
    expect(text).toContain('rtsp://***:***@cam/1');
    expect(lines.length).toBe(2);
  });
});
