import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { isSkywatchError } from '../../core/errors.js';

describe('loadConfig', () => {
  it('gives defaults with an empty environment', () => {
    const config = loadConfig({ env: {} });
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.api.port).toBe(8080);
    expect(config.api.viewerTokens).toEqual([]);
    expect(config.inference.maxBatch).toBe(16);
  });

  it('layers file, then environment, then overrides', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-config-'));
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ api: { port: 9000, maxPixels: 1000 }, registry: '/from/file' }));
    const config = loadConfig({
      env: { SKYWATCH_API_PORT: '9100', SKYWATCH_ADMIN_TOKENS: 'a, b', SKYWATCH_ALLOW_FILE_URLS: 'true' },
      file,
      overrides: { registry: '/from/flag' },
    });
    expect(config.api.port).toBe(9100);
    expect(config.api.maxPixels).toBe(1000);
    expect(config.api.adminTokens).toEqual(['a', 'b']);
    expect(config.ingest.allowFileUrls).toBe(true);
    expect(config.registry).toBe('/from/flag');
  });

  it('lists every problem at once', () => {
    let caught: unknown;
    try {
      loadConfig({ env: { SKYWATCH_API_PORT: 'abc', SKYWATCH_REDIS_URL: 'http://x', SKYWATCH_MAX_BATCH: '0', SKYWATCH_TYPO: '1' } });
    } catch (err) {
      caught = err;
    }
    expect(isSkywatchError(caught, 'CONFIG_INVALID')).toBe(true);
    const problems = (caught as { details: { problems: string[] } }).details.problems;
    // Named by the variable the user set, with the key it feeds.
    expect(problems.some((p) => p.startsWith('SKYWATCH_API_PORT (api.port)'))).toBe(true);
    expect(problems.some((p) => p.startsWith('SKYWATCH_REDIS_URL (redis.url)'))).toBe(true);
    expect(problems.some((p) => p.startsWith('SKYWATCH_MAX_BATCH (inference.maxBatch)'))).toBe(true);
    expect(problems.some((p) => p.startsWith('SKYWATCH_TYPO'))).toBe(true);
    expect(problems.length).toBe(4);
  });

  it('refuses a boolean that is neither yes nor no, and keys the schema does not know', () => {
    const problemsOf = (fn: () => unknown): string[] => {
      try {
        fn();
      } catch (err) {
        return (err as { details: { problems: string[] } }).details.problems;
      }
      return [];
    };
    expect(problemsOf(() => loadConfig({ env: { SKYWATCH_ALLOW_FILE_URLS: 'ture' } }))).toEqual(['SKYWATCH_ALLOW_FILE_URLS (ingest.allowFileUrls): must be true or false (1/0, yes/no, on/off)']);
    expect(loadConfig({ env: { SKYWATCH_ALLOW_FILE_URLS: 'OFF', SKYWATCH_REDIS_AUTOSTART: 'yes' } })).toMatchObject({ ingest: { allowFileUrls: false }, redis: { autoStart: true } });
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-config-'));
    const file = path.join(dir, 'typo.json');
    writeFileSync(file, JSON.stringify({ api: { prot: 9000 }, loglevel: 'debug' }));
    const problems = problemsOf(() => loadConfig({ env: {}, file }));
    expect(problems.join('\n')).toContain(`${file}: api.prot: unknown setting`);
    expect(problems.join('\n')).toContain(`${file}: loglevel: unknown setting`);
    expect(problemsOf(() => loadConfig({ env: { SKYWATCH_CAMERA_DENY_HOSTS: '10.0.0.0/99' } }))[0]).toMatch(/^SKYWATCH_CAMERA_DENY_HOSTS \(ingest.denyHosts\): 10.0.0.0\/99: not a CIDR range/);
  });

  it('reports a config file that is not JSON', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-config-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, '{ nope');
    expect(() => loadConfig({ env: {}, file })).toThrow(/bad\.json/);
  });

  it('SKYWATCH_STATE_DIR moves the registry and the review database unless they are set themselves', () => {
    const moved = loadConfig({ env: { SKYWATCH_STATE_DIR: '/var/lib/skywatch' } });
    expect(moved.registry).toBe(path.join('/var/lib/skywatch', 'registry'));
    expect(moved.review.db).toBe(path.join('/var/lib/skywatch', 'skywatch.db'));
    const plain = loadConfig({ env: {} });
    expect(plain.registry).toBe(path.join('.state', 'registry'));
    expect(plain.review.db).toBe(path.join('.state', 'skywatch.db'));
    const own = loadConfig({ env: { SKYWATCH_STATE_DIR: '/s', SKYWATCH_REGISTRY: 'gs://bucket/models', SKYWATCH_REVIEW_DB: '/db/review.db' } });
    expect(own.registry).toBe('gs://bucket/models');
    expect(own.review.db).toBe('/db/review.db');
  });

  it('validates the review and MQTT settings', () => {
    const config = loadConfig({ env: { SKYWATCH_MQTT_ENABLED: 'true', SKYWATCH_MQTT_TOPIC_PREFIX: 'home/skywatch', SKYWATCH_REVIEW_RETENTION_DAYS: '7' } });
    expect(config.mqtt).toEqual({ enabled: true, url: 'mqtt://127.0.0.1:1883', topicPrefix: 'home/skywatch' });
    expect(config.review.retentionDays).toBe(7);
    expect(() => loadConfig({ env: { SKYWATCH_MQTT_TOPIC_PREFIX: 'a/#', SKYWATCH_REVIEW_POSTGRES_URL: 'mysql://x' } })).toThrow(/mqtt\.topicPrefix[\s\S]*review\.postgresUrl|review\.postgresUrl[\s\S]*mqtt\.topicPrefix/);
  });
});
