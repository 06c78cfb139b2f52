import type { CheckResult } from './check-result.js';

const MIN: [number, number] = [20, 19];

/** package.json's engines: Node 20.19 (require(esm), the tsx loader) or newer. */
export async function checkNode(version = process.versions.node): Promise<CheckResult> {
  const [major, minor] = version.split('.').map(Number);
  const ok = major > MIN[0] || (major === MIN[0] && minor >= MIN[1]);
  return ok ? { name: 'node', level: 'ok', detail: `v${version}` } : { name: 'node', level: 'fail', detail: `v${version}`, fix: `install Node ${MIN.join('.')} or newer` };
}
