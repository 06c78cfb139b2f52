import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseDependencyTree } from 'dpdm';
import { describe, expect, it } from 'vitest';
import { dockerfile, instructions, KNOWN_ENV, SUBCOMMANDS } from './deploy-files.js';

/**
 * hadolint is not packaged for Debian 12 and PyPI is out of reach here, so the rules that matter to us
 * are checked here: pinned bases, COPY sources that exist, a non-root user, a declared health check,
 * apt hygiene, pipefail for piped RUNs, real settings and a real subcommand.
 */
describe.each(['Dockerfile', 'Dockerfile.trainer'])('deploy/docker/%s', (name) => {
  const text = dockerfile(name);
  const ops = instructions(text);
  const stages = new Set(ops.filter((o) => o.op === 'FROM').map((o) => /\bAS\s+(\S+)/i.exec(o.args)?.[1]).filter(Boolean));

  it('bases are pinned images or earlier stages, never :latest', () => {
    for (const o of ops.filter((x) => x.op === 'FROM')) {
      const image = o.args.split(/\s+/)[0];
      if (stages.has(image)) continue;
      expect(image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(image, name).not.toMatch(/:latest$/);
    }
  });

  it('COPY sources from the build context exist in the repository and are not docker-ignored', () => {
    const copies = ops.filter((o) => o.op === 'COPY' && !o.args.startsWith('--from'));
    expect(copies.length).toBeGreaterThan(5);
    for (const o of copies) {
      const parts = o.args.split(/\s+/);
      for (const src of parts.slice(0, -1)) {
        expect(existsSync(path.resolve(src)), `${name}: COPY ${src}`).toBe(true);
        if (src !== '.') expect(['node_modules', 'tests', 'docs', '.git'].includes(src.split('/')[0]), `${name}: ${src} is docker-ignored`).toBe(false);
      }
    }
  });

  it('copies every top-level folder that the CLI imports (the image would fail at start-up without one)', async () => {
    const tree = await parseDependencyTree(['cli/main.ts'], { transform: true, skipDynamicImports: false, exclude: /node_modules|web\/dist|web\/dashboard/ });
    // The project's own files (the tree also names Node's built-ins and packages, which the image has).
    const own = Object.keys(tree).filter((file) => !file.startsWith('node:') && !file.includes('node_modules') && existsSync(file));
    const folders = new Set(own.map((file) => path.relative(process.cwd(), path.resolve(file)).split(path.sep)[0]));
    const copied = new Set(ops.filter((o) => o.op === 'COPY' && !o.args.startsWith('--from')).map((o) => o.args.split(/\s+/)[0].replace(/\/$/, '')));
    expect(folders.size, name).toBeGreaterThan(8);
    const missing = [...folders].filter((f) => !copied.has(f));
    expect(missing, `${name} does not copy`).toEqual([]);
  });

  it('runs as a fixed non-root user, declares a health check, and starts the real CLI', () => {
    const users = ops.filter((o) => o.op === 'USER').map((o) => o.args);
    expect(users.at(-1), name).toBe('skywatch');
    expect(text).toMatch(/useradd .*--uid (\d{4,})/);
    expect(ops.some((o) => o.op === 'HEALTHCHECK'), name).toBe(true);
    const health = ops.find((o) => o.op === 'HEALTHCHECK')!.args;
    if (health !== 'NONE') expect(health).toMatch(/\/health/);
    expect(ops.find((o) => o.op === 'ENTRYPOINT')?.args).toBe('["node", "bin/skywatch.mjs"]');
    const cmd = JSON.parse(ops.find((o) => o.op === 'CMD')!.args) as string[];
    expect(SUBCOMMANDS, name).toContain(cmd[0]);
  });

  it('apt installs skip recommends and clean their lists in the same layer; piped RUNs use pipefail', () => {
    const pipefail = ops.findIndex((o) => o.op === 'SHELL' && o.args.includes('pipefail'));
    ops.forEach((o, i) => {
      if (o.op !== 'RUN') return;
      if (/apt-get install/.test(o.args)) {
        expect(o.args, name).toMatch(/apt-get install -y --no-install-recommends/);
        expect(o.args, name).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
      }
      if (/[^|]\|[^|]/.test(o.args)) expect(pipefail >= 0 && pipefail < i, `${name}: RUN with a pipe needs SHELL pipefail first: ${o.args}`).toBe(true);
    });
  });

  it('names only real settings, and skips onnxruntime-node\'s CUDA download', () => {
    for (const o of ops.filter((x) => x.op === 'ENV')) for (const m of o.args.matchAll(/(\w+)=/g)) expect(KNOWN_ENV.has(m[1]), `${name}: ENV ${m[1]}`).toBe(true);
    expect(text).toMatch(/ONNXRUNTIME_NODE_INSTALL=skip/);
  });
});

describe('deploy/docker/Dockerfile (CPU roles)', () => {
  it('is slim, serves 8080 and keeps training backends out', () => {
    const text = dockerfile('Dockerfile');
    expect(text).toMatch(/^FROM node:20[\w.]*-bookworm-slim AS runtime/m);
    expect(text).toMatch(/^EXPOSE 8080$/m);
    expect(text).toMatch(/rm -rf node_modules\/@tensorflow\/tfjs-node node_modules\/@tensorflow\/tfjs-node-gpu/);
  });
});

describe('deploy/docker/Dockerfile.trainer (GPU)', () => {
  it('runs on CUDA with tfjs-node-gpu and checks the backbone it trains on', () => {
    const text = dockerfile('Dockerfile.trainer');
    expect(text).toMatch(/^FROM nvidia\/cuda:11\.8[\w.-]*cudnn8-runtime/m);
    expect(text).toMatch(/tfjs-node-gpu\/lib -name tfjs_binding\.node/);
    expect(text).toMatch(/21f25e3d9254af93e6218a359469fac714a017b3f9035c0f5c4acbf9a3ff7233/);
  });
});
