import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('docs/CONFIG.md', () => {
  it('matches the config schema (regenerate with: npx tsx scripts/config-doc.ts > docs/CONFIG.md)', () => {
    const generated = execFileSync('npx', ['tsx', 'scripts/config-doc.ts'], { encoding: 'utf8' });
    expect(readFileSync('docs/CONFIG.md', 'utf8')).toBe(generated);
  });
});
