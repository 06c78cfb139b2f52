import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ENV_KEYS } from '../../core/config.js';

/**
 * What can be checked here without a Docker engine or a cloud: every YAML parses, Kubernetes objects
 * have what their kind needs, probes hit real endpoints, env vars are real settings, Dockerfiles copy
 * paths that exist and follow the rules we care about, and every `skywatch` subcommand they run exists.
 */
const DEPLOY = path.resolve('deploy');
const yamlFiles = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? yamlFiles(path.join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [path.join(dir, e.name)] : []));
const docs = (file: string) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
  if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
  return d.toJS() as Record<string, unknown>;
});
const subcommands = execFileSync('node', ['bin/skywatch.mjs', '--help'], { encoding: 'utf8' }).split('Commands:')[1].split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
const ENDPOINTS = new Set(['/health', '/ready']);
const knownEnv = new Set([...Object.keys(ENV_KEYS), 'GOOGLE_APPLICATION_CREDENTIALS', 'SKYWATCH_CONFIG']);

type Obj = Record<string, unknown>;
const walk = (node: unknown, visit: (key: string, value: unknown, parent: Obj) => void): void => {
  if (Array.isArray(node)) node.forEach((n) => walk(n, visit));
  else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node as Obj)) {
    visit(k, v, node as Obj);
    walk(v, visit);
  }
};

describe('deploy/ manifests', () => {
  const files = yamlFiles(DEPLOY);

  it('parse as YAML', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) expect(() => docs(f)).not.toThrow();
  });

  it('Kubernetes objects have apiVersion, kind, name and namespace; containers have images and probes on real endpoints', () => {
    for (const f of yamlFiles(path.join(DEPLOY, 'k8s'))) {
      for (const d of docs(f)) {
        expect(d.apiVersion, f).toBeTruthy();
        expect(d.kind, f).toBeTruthy();
        const meta = d.metadata as Obj;
        expect(meta?.name, f).toBeTruthy();
        if (d.kind !== 'Namespace') expect(meta.namespace, f).toBe('skywatch');
        walk(d, (key, value) => {
          if (key === 'containers') for (const c of value as Obj[]) {
            expect(String(c.image), f).toMatch(/skywatch:(cpu|trainer)$/);
            expect(subcommands, `${f}: args ${JSON.stringify(c.args)}`).toContain((c.args as string[])[0]);
          }
          if (key === 'httpGet') expect(ENDPOINTS.has((value as Obj).path as string), `${f}: probe ${JSON.stringify(value)}`).toBe(true);
        });
        if (d.kind === 'Deployment') {
          const c = ((d.spec as Obj).template as { spec: { containers: Obj[] } }).spec.containers[0];
          expect(c.readinessProbe && c.livenessProbe && c.resources, `${f} needs probes and resources`).toBeTruthy();
        }
      }
    }
  });

  it('name only real settings in env vars and config maps', () => {
    for (const f of files) {
      for (const d of docs(f)) {
        walk(d, (key, value, parent) => {
          if (key === 'name' && typeof value === 'string' && /^[A-Z][A-Z0-9_]+$/.test(value) && 'value' in parent) expect(knownEnv.has(value), `${f}: ${value}`).toBe(true);
          if (key === 'data' && d.kind === 'ConfigMap') for (const k of Object.keys(value as Obj)) expect(knownEnv.has(k), `${f}: ${k}`).toBe(true);
          if (key === 'stringData' || (key === 'environment' && !Array.isArray(value))) for (const k of Object.keys(value as Obj)) if (k.startsWith('SKYWATCH_')) expect(knownEnv.has(k), `${f}: ${k}`).toBe(true);
        });
      }
    }
  });

  it('compose services build existing Dockerfiles and run real subcommands', () => {
    const compose = docs(path.join(DEPLOY, 'compose.yaml'))[0] as { services: Record<string, Obj> };
    for (const [name, svc] of Object.entries(compose.services)) {
      const build = svc.build as { context: string; dockerfile: string } | undefined;
      if (build) expect(existsSync(path.resolve(DEPLOY, build.context, build.dockerfile)), `${name}: ${build.dockerfile}`).toBe(true);
      if (String(svc.image).startsWith('skywatch')) expect(subcommands, name).toContain((svc.command as string[])[0]);
    }
  });

  it('Dockerfiles: pinned bases, COPY sources exist, non-root user, health check or an explicit none', () => {
    for (const name of ['Dockerfile', 'Dockerfile.trainer']) {
      const text = readFileSync(path.join(DEPLOY, 'docker', name), 'utf8');
      for (const m of text.matchAll(/^FROM\s+(\S+)/gm)) {
        if (!m[1].includes(':') && !/^(deps|build|base)$/.test(m[1])) throw new Error(`${name}: unpinned base ${m[1]}`);
        expect(m[1], name).not.toMatch(/:latest$/);
      }
      for (const m of text.matchAll(/^COPY\s+(?!--from)(.+)\s+\S+$/gm)) {
        for (const src of m[1].split(/\s+/)) expect(existsSync(path.resolve(src)), `${name}: COPY ${src}`).toBe(true);
      }
      expect(text, name).toMatch(/^USER\s+skywatch/m);
      expect(text, name).toMatch(/^HEALTHCHECK/m);
      const cmd = /^CMD \["([a-z]+)"/m.exec(text)?.[1];
      expect(subcommands, name).toContain(cmd);
    }
  });
});
