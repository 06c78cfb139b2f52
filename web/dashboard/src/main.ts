import './styles.css';
import { ApiError, setToken, setTokenPrompt, whoami } from './api.js';
import { AlertsView } from './alerts-view.js';
import { CameraHealth } from './camera-health.js';
import { CamerasView } from './cameras-view.js';
import { h } from './dom.js';
import { ModelsView } from './models-view.js';
import { notice } from './notices.js';
import { PredictView } from './predict-view.js';
import { ReviewView } from './review-view.js';
import { session, setSession } from './session.js';
import { SystemView } from './system-view.js';
import type { ConnectionState } from './alerts-socket.js';

const main = document.getElementById('main') as HTMLElement;
const conn = document.getElementById('conn') as HTMLElement;
const rolePill = document.getElementById('role') as HTMLElement;
const banners = document.getElementById('banners') as HTMLElement;
const dialog = document.getElementById('token-dialog') as HTMLDialogElement;
const tokenInput = document.getElementById('token-input') as HTMLInputElement;
const tokenReason = document.getElementById('token-reason') as HTMLElement;

type AskReason = 'missing' | 'invalid' | 'change';
const REASONS: Record<AskReason, string> = {
  missing: 'This server needs a token. It is kept in this browser only.',
  invalid: 'That token was refused by the server. Check it and enter it again.',
  change: 'Enter another token. It is kept in this browser only.',
};

let pendingToken: Promise<string | null> | null = null;
/**
 * Asks for a token. Several requests can fail at once: they share one prompt. Every way out of the
 * dialog (Save, Cancel, Escape) settles the question, so the page and the Token button never hang.
 */
function askToken(reason: AskReason): Promise<string | null> {
  pendingToken ??= new Promise<string | null>((resolve) => {
    let settled = false;
    const finish = (value: string | null) => {
      if (settled) return;
      settled = true;
      pendingToken = null;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    tokenReason.textContent = REASONS[reason];
    tokenInput.value = '';
    (document.getElementById('token-form') as HTMLFormElement).onsubmit = (e) => { e.preventDefault(); finish(tokenInput.value.trim() || null); };
    (document.getElementById('token-cancel') as HTMLButtonElement).onclick = () => finish(null);
    dialog.addEventListener('close', () => finish(null), { once: true });
    dialog.showModal();
    tokenInput.focus();
  });
  return pendingToken;
}
setTokenPrompt((reason) => askToken(reason));

async function changeToken(reason: AskReason): Promise<void> {
  const t = await askToken(reason);
  if (!t) return;
  await setToken(t).catch(() => undefined);
  location.reload();
}
document.getElementById('token-button')?.addEventListener('click', () => void changeToken('change'));

function banner(id: string, text: string, action?: { label: string; run: () => void }): void {
  document.getElementById(id)?.remove();
  banners.append(h('div', { id, class: 'banner error', role: 'alert' }, h('span', {}, text),
    action ? h('button', { type: 'button', onclick: action.run }, action.label) : null));
}

function showRole(): void {
  rolePill.textContent = { admin: 'admin', viewer: 'viewer: read only', none: session.tokens ? 'no token' : '' }[session.role];
  rolePill.hidden = !rolePill.textContent;
}

/** Learns what the stored token may do; asks again (saying why) while the server refuses it. */
async function establishRole(): Promise<void> {
  for (;;) {
    try {
      const me = await whoami();
      if (me.tokens && me.role === 'none') {
        const t = await askToken('missing');
        if (!t) {
          setSession('none', true);
          banner('auth-banner', 'Not signed in: this server needs a token to show anything.', { label: 'Enter a token', run: () => void changeToken('missing') });
          return;
        }
        await setToken(t).catch(() => undefined);
        continue;
      }
      setSession(me.role, me.tokens);
      return;
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) {
        // An older server without /v1/whoami, or none reachable: show everything, the server still guards.
        setSession('admin', false);
        return;
      }
      const t = await askToken('invalid');
      if (!t) {
        await setToken(null);
        setSession('none', true);
        banner('auth-banner', 'The token was refused by the server.', { label: 'Enter another token', run: () => void changeToken('invalid') });
        return;
      }
      await setToken(t).catch(() => undefined);
    }
  }
}

function showConnection(state: ConnectionState, detail?: string): void {
  conn.dataset.state = state;
  conn.textContent = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', offline: 'offline' }[state] + (detail ? ` (${detail})` : '');
  if (detail === 'token refused') banner('auth-banner', 'The live feed was refused: the token is not valid (any more).', { label: 'Enter another token', run: () => void changeToken('invalid') });
}

await establishRole();
showRole();

const views = {
  alerts: new AlertsView(showConnection),
  review: new ReviewView(),
  cameras: new CamerasView(),
  predict: new PredictView(),
  models: new ModelsView(),
  system: new SystemView(),
};
type Tab = keyof typeof views;

const health = new CameraHealth(banners);
if (session.role !== 'none' || !session.tokens) {
  void views.alerts.start();
  health.start();
} else {
  showConnection('offline');
}

function route(): void {
  const tab = (location.hash.replace(/^#\//, '').split('?')[0] || 'alerts') as Tab;
  const view = views[tab] ?? views.alerts;
  for (const v of Object.values(views)) v.el.remove();
  views.cameras.stop();
  views.system.stop();
  main.append(view.el);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (session.role === 'none' && session.tokens) return;
  if (view === views.cameras) views.cameras.start();
  if (view === views.system) views.system.start();
  if (view === views.models) void views.models.start();
  if (view === views.review) void views.review.start();
}
window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (e) => notice(e.reason instanceof Error ? e.reason.message : String(e.reason)));
route();
