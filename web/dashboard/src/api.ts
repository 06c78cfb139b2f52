/**
 * REST access with a session: a 401 asks for a token once, exchanges it for an HttpOnly,
 * SameSite=Strict cookie (POST v1/session) and retries. The page never keeps the token, so no URL
 * (images, the WebSocket) and no script-readable storage holds it. All token handling of the page
 * lives here and in alerts-socket.ts.
 *
 * A 401 asks for a token once (several failing requests share one prompt) and retries once; a token
 * that is still refused is reported (ApiError 401), never retried in a loop.
 */
const TOKEN_KEY = 'skywatch.token';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}

type TokenPrompt = (reason: 'missing' | 'invalid') => Promise<string | null>;
let promptForToken: TokenPrompt = async () => null;

export function setTokenPrompt(fn: TokenPrompt): void {
  promptForToken = fn;
}

/** The page holds no token (the session cookie is HttpOnly): always null. */
export function getToken(): string | null {
  return null;
}

/** Whether this page started a session (so a 401 means the token was wrong, not missing). */
let sessionStarted = false;

/** Starts a session with a token (or ends it with null); resolves when the cookie is set. */
export async function setToken(token: string | null): Promise<void> {
  // A token an older version of the page stored is dropped.
  localStorage.removeItem(TOKEN_KEY);
  if (!token) {
    sessionStarted = false;
    await fetch('v1/session', { method: 'DELETE' });
    return;
  }
  const res = await fetch('v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  sessionStarted = res.ok;
  if (res.status === 401) throw new ApiError(401, 'UNAUTHORIZED', 'this token is not valid');
}

export async function api<T>(path: string, init: RequestInit = {}, retried = false): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.body && typeof init.body === 'string' && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401 && !retried) {
    const next = await promptForToken(sessionStarted ? 'invalid' : 'missing');
    if (next) {
      await setToken(next).catch(() => undefined);
      return api<T>(path, init, true);
    }
  }
  const type = res.headers.get('content-type') ?? '';
  const body: unknown = type.includes('application/json') ? await res.json() : await res.text();
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } })?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? res.statusText, err?.details);
  }
  return body as T;
}

/** Image URLs are sent with the session cookie: they carry no token (kept for callers). */
export function withToken(url: string): string {
  return url;
}

export type Role = 'admin' | 'viewer' | 'none';

/** The role of this page's session (GET /v1/whoami); ApiError 401 when its token is not valid. */
export async function whoami(): Promise<{ role: Role; tokens: boolean }> {
  // A token an older version of the page kept in localStorage is exchanged for a session once, then
  // dropped: the page keeps no token of its own.
  const legacy = localStorage.getItem(TOKEN_KEY);
  if (legacy && !(await setToken(legacy).then(() => true, () => false))) throw new ApiError(401, 'UNAUTHORIZED', 'this token is not valid');
  const res = await fetch('v1/whoami');
  if (res.status === 401) {
    // The server's request guard answers 401 before whoami runs when no credentials came at all
    // ("a token is required"): that is role none, not a refused token.
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    if (/required/i.test(body?.error?.message ?? '')) return { role: 'none', tokens: true };
    throw new ApiError(401, 'UNAUTHORIZED', 'this token is not valid');
  }
  if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, res.statusText);
  return (await res.json()) as { role: Role; tokens: boolean };
}

/** A message for a person: what a refused or failed request means for them. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403) return 'Your token may only view: this action needs an admin token.';
    if (err.status === 401) return 'The token was refused: enter a valid token with the Token button.';
    if (err.status === 429) return 'Too many requests: wait a moment and try again.';
    return `${err.message} (${err.code})`;
  }
  if (err instanceof TypeError) return 'The server cannot be reached.';
  return String(err instanceof Error ? err.message : err);
}
