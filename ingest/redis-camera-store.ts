import type { RedisClient } from '../core/redis-client.js';
import { names } from '../core/redis-keys.js';
import { parseStoredCamera, type Camera } from './camera.js';
import type { CameraStore } from './camera-store.js';

// Replace only if the camera is still there: a PATCH racing a DELETE must not resurrect it.
const UPDATE_IF_EXISTS = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0`;

/** Cameras as one Redis hash (id -> JSON) under `<prefix>:cameras`. */
export class RedisCameraStore implements CameraStore {
  private readonly key: string;

  constructor(private readonly redis: RedisClient, prefix: string) {
    this.key = names(prefix).cameras;
  }

  async create(camera: Camera): Promise<void> {
    await this.redis.hset(this.key, camera.id, JSON.stringify(camera));
  }

  async get(id: string): Promise<Camera | null> {
    const json = await this.redis.hget(this.key, id);
    return json === null ? null : parseStoredCamera(json);
  }

  async list(): Promise<Camera[]> {
    const all = await this.redis.hgetall(this.key);
    return Object.values(all)
      .map(parseStoredCamera)
      .filter((c): c is Camera => c !== null)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async update(camera: Camera): Promise<boolean> {
    return (await this.redis.eval(UPDATE_IF_EXISTS, 1, this.key, camera.id, JSON.stringify(camera))) === 1;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.redis.hdel(this.key, id)) === 1;
  }
}
