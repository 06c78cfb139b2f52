/**
 * REST access with the stored token. All token handling of the page lives here and in
 * alerts-socket.ts, so moving to a session cookie changes these two files only.
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

export function getToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

export async function api<T>(path: string, init: RequestInit = {}, retried = false): Promise<T> {
  const headers = new Headers(init.headers);
  const token = getToken();
  if (token) headers.set('authorization', `Bearer ${token}`);
  if (init.body && typeof init.body === 'string' && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401 && !retried) {
    const next = await promptForToken(token ? 'invalid' : 'missing');
    if (next) {
      setToken(next);
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

/** URLs the browser loads itself (images, clips, links) cannot carry headers: the token rides in the query string. */
export function withToken(url: string): string {
  const token = getToken();
  if (!token) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

export type Role = 'admin' | 'viewer' | 'none';

/** The role of the stored token (GET /v1/whoami); ApiError 401 when the token is not valid. */
export async function whoami(): Promise<{ role: Role; tokens: boolean }> {
  const headers = new Headers();
  const token = getToken();
  if (token) headers.set('authorization', `Bearer ${token}`);
  const res = await fetch('v1/whoami', { headers });
  if (res.status === 401) throw new ApiError(401, 'UNAUTHORIZED', 'this token is not valid');
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
