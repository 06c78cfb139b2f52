import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SUBCOMMANDS } from './deploy-files.js';

describe('Cloud Build quality gate', () => {
  it('evaluates the latest model with --check and bars taken from substitutions that exist', () => {
    const build = parse(readFileSync('deploy/gcp/cloudbuild.quality.yaml', 'utf8')) as { steps: Array<{ id: string; args: string[] }>; substitutions: Record<string, string> };
    const gate = build.steps.find((s) => s.id === 'quality-gate')!;
    expect(gate.args.slice(0, 2)).toEqual(['bin/skywatch.mjs', 'eval']);
    expect(SUBCOMMANDS).toContain('eval');
    expect(gate.args).toContain('--check');
    expect(gate.args[gate.args.indexOf('--model') + 1]).toBe('latest');
    const used = [...JSON.stringify(build.steps).matchAll(/\$\{(_[A-Z_]+)\}/g)].map((m) => m[1]);
    for (const s of used) expect(Object.keys(build.substitutions), s).toContain(s);
    const accuracy = Number(build.substitutions._MIN_ACCURACY);
    expect(accuracy).toBeGreaterThan(0.5);
    expect(gate.args).toContain('drone=${_MIN_DRONE_RECALL}');
  });
});
