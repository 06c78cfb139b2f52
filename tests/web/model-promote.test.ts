import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { buildServer, type SkywatchServer } from '../../web/server.js';
import { publishTiny, tinyManifest } from '../support/tiny-model.js';

let server: SkywatchServer;
let registry: ModelRegistry;
let url = '';

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sw-promote-'));
  registry = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
  // v0 then v1: a good latest with a good previous; then three bad versions written as an attacker or
  // a broken copy would leave them.
  await publishTiny(registry, path.join(dir, 'm'), 'v0', true);
  const v1 = await publishTiny(registry, path.join(dir, 'm'), 'v1');
  await publishTiny(registry, path.join(dir, 'm'), 'corrupt');
  await registry.store.write('models/corrupt/model.onnx', 'bytes that are not the published model');
  const junk = Buffer.from('not an ONNX graph at all, but its checksum is right');
  await registry.store.write('models/junk/model.onnx', junk);
  await registry.store.write('models/junk/manifest.json', JSON.stringify(tinyManifest('junk', junk)));
  // v1's manifest copied into another folder: promoting "moved" would make v1 latest.
  await registry.store.write('models/moved/model.onnx', await registry.store.read('models/v1/model.onnx'));
  await registry.store.write('models/moved/manifest.json', JSON.stringify(v1));
  await registry.promote('v1');
  const config = loadConfig({ env: { SKYWATCH_STATE_DIR: path.join(dir, 'state') } });
  server = await buildServer({ config, logger: silentLogger, registry });
  url = await server.listen(0);
  await server.holder.reload();
}, 60_000);

afterAll(async () => {
  await server?.close();
});

/** A GET sent with its path as is (fetch would resolve the dots). */
function getAsIs(pathAsIs: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    http.get({ host: hostname, port, path: pathAsIs }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('version paths', () => {
  it('answers dots as versions with a 4xx, not a 500', async () => {
    for (const p of ['/v1/models/..', '/v1/models/.', '/v1/models/../report.html', '/v1/models/./report.html']) {
      const res = await getAsIs(p);
      expect(res.status, p).toBeGreaterThanOrEqual(400);
      expect(res.status, p).toBeLessThan(500);
      expect(JSON.parse(res.body).error.code, p).toMatch(/^(BAD_REQUEST|NOT_FOUND|MODEL_NOT_FOUND)$/);
    }
  });
});

describe('promote and roll back verify before moving latest.json', () => {
  it('refuses a version whose model fails its checksum, does not load, or whose manifest belongs elsewhere', async () => {
    for (const [version, code] of [['corrupt', 'MODEL_CHECKSUM'], ['junk', 'MODEL_INVALID'], ['moved', 'MODEL_INVALID']] as const) {
      const res = await fetch(`${url}/v1/models/${version}/promote`, { method: 'POST' });
      expect(res.status, version).toBe(422);
      expect((await res.json()).error.code, version).toBe(code);
      expect((await registry.latest())?.version, version).toBe('v1');
    }
    expect((await (await fetch(`${url}/v1/models/moved`)).json()).error.code).toBe('MODEL_INVALID');
    expect(server.holder.current?.version).toBe('v1');
  });

  it('promotes and rolls back verified versions', async () => {
    const promoted = await fetch(`${url}/v1/models/v0/promote`, { method: 'POST' });
    expect(promoted.status).toBe(200);
    expect(await promoted.json()).toMatchObject({ version: 'v0', promoted: true, serving: 'v0' });
    // The previous version is checked too: break it, and rolling back to it is refused.
    const good = await registry.store.read('models/v1/model.onnx');
    await registry.store.write('models/v1/model.onnx', 'tampered');
    const refused = await fetch(`${url}/v1/models/rollback`, { method: 'POST' });
    expect(refused.status).toBe(422);
    expect((await registry.latest())?.version).toBe('v0');
    await registry.store.write('models/v1/model.onnx', good);
    const back = await fetch(`${url}/v1/models/rollback`, { method: 'POST' });
    expect(await back.json()).toMatchObject({ version: 'v1', promoted: true, serving: 'v1' });
  });
});
