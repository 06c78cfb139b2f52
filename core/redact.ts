/**
 * Masks secrets inside free text: `user:pass@` in any URL, bearer tokens, and query parameters whose
 * names look secret. Used by the logger for every string it writes and by the API before it echoes a
 * camera URL.
 */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]+)(?::([^\s/@]*))?@/gi;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi;
const SECRET_QUERY = /([?&](?:token|access_token|password|pass|pwd|key|api_key|apikey|secret|sig|signature)=)[^&\s#]+/gi;

export function redactText(text: string): string {
  if (!text.includes('@') && !/bearer|token|pass|key|secret|sig/i.test(text)) return text;
  return text
    .replace(URL_CREDENTIALS, (_m, scheme: string) => `${scheme}***:***@`)
    .replace(BEARER, '$1[redacted]')
    .replace(SECRET_QUERY, '$1[redacted]');
}

/** A URL with its credentials masked, for showing to users (the stored URL keeps them). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = u.username ? '***' : '';
      u.password = u.password ? '***' : '';
    }
    return redactText(u.toString());
  } catch {
    return redactText(url);
  }
}
