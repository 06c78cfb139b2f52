import { h } from './dom.js';

const KEEP_MS = 8_000;

/**
 * Messages for the person at the screen: a refused action, a failed save, a done promote. Errors
 * stay until dismissed (role=alert, read out at once); confirmations fade after a few seconds.
 */
export function notice(text: string, kind: 'error' | 'ok' = 'error'): HTMLElement {
  const host = document.getElementById('notices') as HTMLElement;
  const el = h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', {}, text),
    h('button', { type: 'button', class: 'ghost', 'aria-label': 'Dismiss', onclick: () => el.remove() }, '×'));
  host.append(el);
  while (host.children.length > 4) host.firstElementChild?.remove();
  if (kind === 'ok') setTimeout(() => el.remove(), KEEP_MS);
  return el;
}
