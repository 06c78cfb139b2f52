import type { Role } from './api.js';

/**
 * The role of this page's token. It is written on <body data-role>, so the stylesheet hides what the
 * role may not do (`.admin-only`) without each view re-rendering.
 */
export const session: { role: Role; tokens: boolean } = { role: 'none', tokens: false };

export function setSession(role: Role, tokens: boolean): void {
  session.role = role;
  session.tokens = tokens;
  document.body.dataset.role = role;
}

export function isAdmin(): boolean {
  return session.role === 'admin';
}
