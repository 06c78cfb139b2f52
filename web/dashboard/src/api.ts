/**
 * REST access with a session: a 401 asks for a token once, exchanges it for an HttpOnly,
 * SameSite=Strict cookie (POST v1/session) and retries. The page never keeps the token, so no URL
 * (images, the WebSocket) and no script-readable storage holds it.
 */
const TOKEN_KEY = 'skywatch.token';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}

type TokenPrompt = () => Promise<string | null>;
let promptForToken: TokenPrompt = async () => null;

export function setTokenPrompt(fn: TokenPrompt): void {
  promptForToken = fn;
}

/** The page holds no token (the session cookie is HttpOnly): always null. */
export function getToken(): string | null {
  return null;
}

/** Starts a session with a token (or ends it with null); resolves when the cookie is set. */
export async function setToken(token: string | null): Promise<void> {
  // A token an older version of the page stored is dropped.
  localStorage.removeItem(TOKEN_KEY);
  if (token) await fetch('v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  else await fetch('v1/session', { method: 'DELETE' });
}

export async function api<T>(path: string, init: RequestInit = {}, retried = false): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.body && typeof init.body === 'string' && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(path, { ...init, headers });
  if ((res.status === 401 || res.status === 403) && !retried) {
    const next = await promptForToken();
    if (next) {
      await setToken(next);
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
