import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { names } from '../../queue/redis-connection.js';
import { DEPLOY, docs, dockerfile, ENDPOINTS, k8sObjects, KNOWN_ENV, SUBCOMMANDS, walk, yamlFiles, type Obj } from './deploy-files.js';

/**
 * What can be checked here without a Docker engine, a Kubernetes cluster or a cloud: every YAML
 * parses; Kubernetes objects have what their kind needs and refer to each other correctly; probes hit
 * real endpoints; env vars are real settings; every `skywatch` subcommand they run exists.
 */
type Container = { name: string; image: string; args?: string[]; ports?: Array<{ name?: string; containerPort: number }>; readinessProbe?: Obj; livenessProbe?: Obj; resources?: { requests?: Obj } };
type PodSpec = { containers: Container[]; securityContext?: { runAsUser?: number } };

const podSpec = (doc: Obj): PodSpec | null => {
  const spec = doc.spec as Obj | undefined;
  if (doc.kind === 'CronJob') return ((((spec!.jobTemplate as Obj).spec as Obj).template as Obj).spec as PodSpec);
  if (doc.kind === 'Deployment' || doc.kind === 'StatefulSet') return (spec!.template as Obj).spec as PodSpec;
  return null;
};
const templateLabels = (doc: Obj): Obj => (((doc.spec as Obj).template as Obj).metadata as Obj).labels as Obj;
const matches = (selector: Obj, labels: Obj) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const skywatchImageUid = () => Number(/useradd .*--uid (\d+)/.exec(dockerfile('Dockerfile'))?.[1]);

describe('deploy/ manifests', () => {
  const files = yamlFiles(DEPLOY);
  const objects = k8sObjects();
  const workloads = objects.filter(({ doc }) => ['Deployment', 'StatefulSet'].includes(doc.kind as string));

  it('parse as YAML', () => {
    expect(files.length).toBeGreaterThanOrEqual(13);
    for (const f of files) expect(() => docs(f)).not.toThrow();
  });

  it('Kubernetes objects have apiVersion, kind, a name and the skywatch namespace', () => {
    const kinds = new Set(objects.map(({ doc }) => doc.kind));
    for (const k of ['Namespace', 'ConfigMap', 'Secret', 'Deployment', 'StatefulSet', 'Service', 'CronJob', 'ScaledObject', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) expect(kinds, k).toContain(k);
    for (const { file, doc } of objects) {
      expect(doc.apiVersion, file).toMatch(/^([a-z0-9.]+\/)?v\d/);
      const meta = doc.metadata as Obj;
      expect(meta?.name, file).toMatch(/^[a-z0-9-]+$/);
      if (doc.kind !== 'Namespace') expect(meta.namespace, `${file} ${meta.name as string}`).toBe('skywatch');
    }
  });

  it('`kubectl apply -f deploy/k8s/` never overwrites real secrets and never applies two autoscalers', () => {
    const top = objects.filter(({ file }) => path.dirname(file) === path.join(DEPLOY, 'k8s'));
    expect(top.filter(({ doc }) => doc.kind === 'Secret')).toEqual([]);
    expect(top.filter(({ doc }) => doc.kind === 'ScaledObject' || doc.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    const secrets = objects.filter(({ doc }) => doc.kind === 'Secret').map(({ doc }) => (doc.metadata as Obj).name);
    for (const { file, doc } of top) {
      walk(doc, (key, value) => {
        if (key === 'secretRef' || key === 'secret') expect(secrets, file).toContain((value as Obj).name ?? (value as Obj).secretName);
      });
    }
  });

  it('containers: pinned images, real subcommands, probes on /health and /ready, resource requests, the image user', () => {
    const uid = skywatchImageUid();
    expect(uid).toBeGreaterThan(0);
    for (const { file, doc } of objects) {
      const spec = podSpec(doc);
      if (!spec) continue;
      for (const c of spec.containers) {
        expect(c.image, file).toMatch(/:[\w.-]+$/);
        expect(c.image, file).not.toMatch(/:latest$/);
        expect(c.resources?.requests, `${file}: ${c.name} requests`).toBeTruthy();
        if (!/\/skywatch:(cpu|trainer)$/.test(c.image)) continue;
        expect(SUBCOMMANDS, `${file}: args ${JSON.stringify(c.args)}`).toContain(c.args?.[0]);
        expect(spec.securityContext?.runAsUser, `${file}: runAsUser must be the image's uid`).toBe(uid);
        if (doc.kind === 'Deployment') {
          expect((c.readinessProbe?.httpGet as Obj)?.path, `${file}: readiness`).toBe('/ready');
          expect((c.livenessProbe?.httpGet as Obj)?.path, `${file}: liveness`).toBe('/health');
          expect(c.ports?.map((p) => p.containerPort), file).toContain(8080);
        }
      }
      walk(doc, (key, value) => {
        if (key === 'httpGet') expect(ENDPOINTS.has((value as Obj).path as string), `${file}: probe ${JSON.stringify(value)}`).toBe(true);
      });
    }
  });

  it('selectors, services, budgets and autoscalers point at workloads that exist', () => {
    for (const { file, doc } of workloads) expect(matches(((doc.spec as Obj).selector as Obj).matchLabels as Obj, templateLabels(doc)), file).toBe(true);
    for (const { file, doc } of objects) {
      const spec = doc.spec as Obj;
      if (doc.kind === 'Service' || doc.kind === 'PodDisruptionBudget') {
        const selector = (doc.kind === 'Service' ? spec.selector : (spec.selector as Obj).matchLabels) as Obj;
        const target = workloads.find((w) => matches(selector, templateLabels(w.doc)));
        expect(target, `${file}: ${doc.kind} ${(doc.metadata as Obj).name as string} selects nothing`).toBeTruthy();
        if (doc.kind === 'Service') {
          const portNames = podSpec(target!.doc)!.containers.flatMap((c) => c.ports ?? []).map((p) => p.name);
          for (const p of spec.ports as Array<{ targetPort: string }>) expect(portNames, file).toContain(p.targetPort);
        }
      }
      if (doc.kind === 'ScaledObject' || doc.kind === 'HorizontalPodAutoscaler') {
        const ref = (spec.scaleTargetRef as Obj).name;
        expect(workloads.some((w) => w.doc.kind === 'Deployment' && (w.doc.metadata as Obj).name === ref), `${file}: ${ref as string}`).toBe(true);
      }
    }
  });

  it('the configured Redis and the KEDA trigger name the Redis Service and the queue the code really uses', () => {
    const config = objects.find(({ doc }) => doc.kind === 'ConfigMap')!.doc.data as Record<string, string>;
    const host = new URL(config.SKYWATCH_REDIS_URL).hostname;
    const [service, namespace] = host.split('.');
    expect(namespace).toBe('skywatch');
    expect(objects.some(({ doc }) => doc.kind === 'Service' && (doc.metadata as Obj).name === service), `no Service ${service}`).toBe(true);
    const trigger = ((objects.find(({ doc }) => doc.kind === 'ScaledObject')!.doc.spec as Obj).triggers as Array<{ metadata: Record<string, string> }>)[0].metadata;
    expect(trigger.address).toBe(`${host}:6379`);
    const n = names(config.SKYWATCH_REDIS_PREFIX);
    expect(trigger.listName).toBe(`${n.queuePrefix}:${n.frames}:wait`);
  });

  it('name only real settings in env vars, config maps and secrets', () => {
    let named = 0;
    for (const f of files) {
      for (const d of docs(f)) {
        walk(d, (key, value, parent) => {
          if (key === 'name' && typeof value === 'string' && ('value' in parent || 'valueFrom' in parent)) {
            named++;
            expect(KNOWN_ENV.has(value), `${f}: ${value}`).toBe(true);
          }
          if (key === 'data' && d.kind === 'ConfigMap') for (const k of Object.keys(value as Obj)) expect(KNOWN_ENV.has(k), `${f}: ${k}`).toBe(true);
          if (key === 'stringData' || (key === 'environment' && !Array.isArray(value))) {
            for (const k of Object.keys(value as Obj)) if (k !== 'key.json') expect(KNOWN_ENV.has(k), `${f}: ${k}`).toBe(true);
          }
        });
      }
    }
    expect(named).toBeGreaterThan(10);
  });

  it('compose: services build existing Dockerfiles, run real subcommands, mount volumes the image prepared, probe real endpoints', () => {
    const compose = docs(path.join(DEPLOY, 'compose.yaml'))[0] as { services: Record<string, Obj> };
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'ingest', 'redis', 'trainer', 'worker']);
    for (const [name, svc] of Object.entries(compose.services)) {
      const build = svc.build as { context: string; dockerfile: string } | undefined;
      if (build) expect(existsSync(path.resolve(DEPLOY, build.context, build.dockerfile)), `${name}: ${build.dockerfile}`).toBe(true);
      if (!String(svc.image).startsWith('skywatch:')) continue;
      expect(SUBCOMMANDS, name).toContain((svc.command as string[])[0]);
      const env = svc.environment as Record<string, string>;
      expect(env.SKYWATCH_REDIS_URL, name).toBe('redis://redis:6379');
      const file = String(svc.image) === 'skywatch:trainer' ? 'Dockerfile.trainer' : 'Dockerfile';
      const prepared = /mkdir -p ([^&\n]+)/.exec(dockerfile(file))![1].split(/\s+/);
      for (const v of (svc.volumes as string[] | undefined) ?? []) {
        const [source, target] = v.split(':');
        // A named volume starts as the image's folder (owner included); a missing one would be root's.
        if (!source.startsWith('.') && !source.startsWith('$')) expect(prepared, `${name}: ${target} must exist in ${file}`).toContain(target);
      }
      if (name !== 'trainer') expect(JSON.stringify(svc.healthcheck), name).toMatch(/127\.0\.0\.1:8080\/(ready|health)/);
    }
  });

  it('Google Cloud: builds use existing Dockerfiles and push what they build; jobs and services run real subcommands on port 8080', () => {
    for (const f of ['cloudbuild.api.yaml', 'cloudbuild.trainer.yaml']) {
      const build = docs(path.join(DEPLOY, 'gcp', f))[0] as { steps: Array<{ args: string[] }>; images: string[] };
      const docker = build.steps.find((s) => s.args.includes('build'))!;
      expect(existsSync(path.resolve(docker.args[docker.args.indexOf('-f') + 1])), f).toBe(true);
      const tags = docker.args.filter((_, i) => docker.args[i - 1] === '-t');
      expect(build.images.sort(), f).toEqual(tags.sort());
    }
    const job = docs(path.join(DEPLOY, 'gcp', 'vertex-train-job.yaml'))[0] as { workerPoolSpecs: Array<{ machineSpec: Obj; containerSpec: { imageUri: string; args: string[] } }> };
    expect(job.workerPoolSpecs[0].machineSpec).toMatchObject({ machineType: 'n1-standard-8', acceleratorType: 'NVIDIA_TESLA_T4' });
    expect(job.workerPoolSpecs[0].containerSpec.imageUri).toMatch(/skywatch:trainer$/);
    expect(SUBCOMMANDS).toContain(job.workerPoolSpecs[0].containerSpec.args[0]);
    const run = docs(path.join(DEPLOY, 'gcp', 'cloudrun-api.yaml'))[0] as { spec: { template: { spec: { containers: Container[] } } } };
    const c = run.spec.template.spec.containers[0];
    expect(c.args?.[0]).toBe('api');
    expect(c.ports?.[0].containerPort).toBe(8080);
    expect(JSON.stringify(c)).toContain('SKYWATCH_REDIS_URL');
  });

  it('every `skywatch <subcommand>` the deploy files and guides mention is a real subcommand', () => {
    const texts = [...yamlFiles(DEPLOY), path.join(DEPLOY, 'docker', 'backbones', 'README.md'), 'docs/DEPLOY.md', 'docs/OPERATIONS.md'].map((f) => [f, readFileSync(f, 'utf8')] as const);
    let seen = 0;
    for (const [f, text] of texts) {
      for (const m of text.matchAll(/`skywatch ([a-z][a-z-]*)/g)) {
        seen++;
        expect(SUBCOMMANDS, `${f}: skywatch ${m[1]}`).toContain(m[1]);
      }
    }
    expect(seen).toBeGreaterThan(10);
  });
});
