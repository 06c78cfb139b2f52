import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ENV_KEYS } from '../../core/config.js';

/** Shared readers for the deploy/ validation tests. */
export const DEPLOY = path.resolve('deploy');

export type Obj = Record<string, unknown>;

export const yamlFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? yamlFiles(path.join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [path.join(dir, e.name)] : []));

/** Every document of a YAML file, merge keys (`<<: *env`) resolved as Compose resolves them. */
export function docs(file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, 'utf8'), { merge: true }).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Obj;
  });
}

/** Subcommands the real CLI lists in `skywatch --help`. */
export const SUBCOMMANDS: string[] = execFileSync('node', ['bin/skywatch.mjs', '--help'], { encoding: 'utf8', env: { ...process.env, SKYWATCH_LOG_LEVEL: 'silent' } })
  .split('Commands:')[1]
  .split('\n')
  .filter((l) => /^ {2}\S/.test(l))
  .map((l) => l.trim().split(/\s+/)[0])
  .filter((c) => c !== 'help');

/** Settings a manifest may name: Skywatch's own, and the Google client library's credentials file. */
export const KNOWN_ENV = new Set([...Object.keys(ENV_KEYS), 'SKYWATCH_CONFIG', 'GOOGLE_APPLICATION_CREDENTIALS', 'NODE_ENV', 'DEBIAN_FRONTEND', 'ONNXRUNTIME_NODE_INSTALL']);

export const ENDPOINTS = new Set(['/health', '/ready']);

/** Visits every key of a parsed document, depth first. */
export function walk(node: unknown, visit: (key: string, value: unknown, parent: Obj) => void): void {
  if (Array.isArray(node)) node.forEach((n) => walk(n, visit));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Obj)) {
      visit(k, v, node as Obj);
      walk(v, visit);
    }
  }
}

export const k8sObjects = (): Array<{ file: string; doc: Obj }> =>
  yamlFiles(path.join(DEPLOY, 'k8s')).flatMap((file) => docs(file).map((doc) => ({ file, doc })));

export const dockerfile = (name: string): string => readFileSync(path.join(DEPLOY, 'docker', name), 'utf8');

/** Dockerfile instructions with continuation lines joined. */
export function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}
