/**
 * Masks secrets. Two tools: `redactText` for free text whose secrets are unknown (the logger's last
 * line of defence: `user:pass@` in URLs, bearer tokens, secret-looking query parameters), and the
 * URL-based ones (`redactUrl`, `urlSecrets`, `maskSecrets`) for text about a camera whose stored URL
 * is known: they mask exactly that URL's credentials, whatever characters the password holds.
 */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]+)(?::([^\s/@]*))?@/gi;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi;
const SECRET_QUERY = /([?&](?:token|access_token|password|passwd|pass|pwd|auth|key|api_key|apikey|secret|sig|signature|credentials?)=)[^&\s#]+/gi;

/** Query parameter names that carry credentials in camera URLs (vendors use all of these). */
const SECRET_PARAM = /^(user(name)?|usr|login|pass(wd|word)?|pwd|auth(orization)?|token|access_token|api_?key|key|secret|sig(nature)?|credentials?|session(id)?|sid)$/i;

export function redactText(text: string): string {
  if (!text.includes('@') && !/bearer|token|pass|pwd|auth|key|secret|sig|credential/i.test(text)) return text;
  return text
    .replace(URL_CREDENTIALS, (_m, scheme: string) => `${scheme}***:***@`)
    .replace(BEARER, '$1[redacted]')
    .replace(SECRET_QUERY, '$1[redacted]');
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Query pairs of a URL as written (no re-encoding of the others). */
function queryPairs(search: string): Array<{ raw: string; name: string; value: string }> {
  return search.replace(/^\?/, '').split('&').filter(Boolean).map((raw) => {
    const eq = raw.indexOf('=');
    return { raw, name: decode(eq < 0 ? raw : raw.slice(0, eq)), value: eq < 0 ? '' : raw.slice(eq + 1) };
  });
}

/**
 * A URL with its user, password and credential query parameters masked, for showing to users (the
 * stored URL keeps them). Built from the parsed URL, not by a pattern over text, so a password with a
 * space or an `@` is masked whole. Something with a scheme that does not parse is hidden entirely;
 * a plain file path has nothing to hide.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return /^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url) ? '[unparseable URL hidden]' : url;
  }
  if (u.protocol === 'file:') return url;
  if (u.username) u.username = '***';
  if (u.password) u.password = '***';
  if (u.search) {
    u.search = queryPairs(u.search).map((p) => (SECRET_PARAM.test(p.name) ? `${p.raw.split('=')[0]}=***` : p.raw)).join('&');
  }
  return u.href;
}

/** The secrets of a URL as they may appear in text about it: raw and percent-decoded. */
export function urlSecrets(url: string): string[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [];
  }
  const found = [u.username, u.password, ...queryPairs(u.search).filter((p) => SECRET_PARAM.test(p.name)).map((p) => p.value)].filter((s) => s.length > 0);
  const all = new Set<string>();
  for (const s of found) {
    all.add(s);
    all.add(decode(s));
    all.add(encodeURIComponent(decode(s)));
  }
  // Longest first, so a secret containing another is masked whole.
  return [...all].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

/** Free text about a URL (ffmpeg's stderr, an error message) with that URL's secrets masked. */
export function maskSecrets(text: string, url: string): string {
  let out = text;
  for (const secret of urlSecrets(url)) out = out.split(secret).join('***');
  return redactText(out);
}
