/**
 * The SKYWATCH_* variables of a benchmark's own environment, for loadConfig: a benchmark that builds
 * the roles in its own process takes the product's settings the way `skywatch start` would (the
 * variables are read by name, so nothing else of the environment leaks into the config).
 */
export function skywatchEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('SKYWATCH_')));
}
