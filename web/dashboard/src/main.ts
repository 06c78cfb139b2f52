import './styles.css';
import { setToken, setTokenPrompt, getToken } from './api.js';
import { AlertsView } from './alerts-view.js';
import { CamerasView } from './cameras-view.js';
import { PredictView } from './predict-view.js';
import { ModelsView } from './models-view.js';
import { SystemView } from './system-view.js';
import type { ConnectionState } from './alerts-socket.js';

const main = document.getElementById('main') as HTMLElement;
const conn = document.getElementById('conn') as HTMLElement;
const dialog = document.getElementById('token-dialog') as HTMLDialogElement;
const tokenInput = document.getElementById('token-input') as HTMLInputElement;

let pendingToken: Promise<string | null> | null = null;
function askToken(): Promise<string | null> {
  // Several requests can fail at once: ask once and let them all wait for the same answer.
  pendingToken ??= new Promise<string | null>((resolve) => {
    tokenInput.value = getToken() ?? '';
    const done = (value: string | null) => {
      dialog.close();
      pendingToken = null;
      resolve(value);
    };
    (document.getElementById('token-form') as HTMLFormElement).onsubmit = (e) => { e.preventDefault(); done(tokenInput.value.trim() || null); };
    (document.getElementById('token-cancel') as HTMLButtonElement).onclick = () => done(null);
    dialog.showModal();
    tokenInput.focus();
  });
  return pendingToken;
}
setTokenPrompt(askToken);
document.getElementById('token-button')?.addEventListener('click', async () => {
  const t = await askToken();
  if (t) {
    await setToken(t);
    location.reload();
  }
});

function showConnection(state: ConnectionState, detail?: string): void {
  conn.dataset.state = state;
  conn.textContent = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', offline: 'offline' }[state] + (detail ? ` (${detail})` : '');
}

const views = {
  alerts: new AlertsView(showConnection),
  cameras: new CamerasView(),
  predict: new PredictView(),
  models: new ModelsView(),
  system: new SystemView(),
};
type Tab = keyof typeof views;

void views.alerts.start();

function route(): void {
  const tab = (location.hash.replace(/^#\//, '') || 'alerts') as Tab;
  const view = views[tab] ?? views.alerts;
  for (const v of Object.values(views)) v.el.remove();
  views.cameras.stop();
  views.system.stop();
  main.append(view.el);
  if (view === views.cameras) views.cameras.start();
  if (view === views.system) views.system.start();
  if (view === views.models) void views.models.start();
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}
window.addEventListener('hashchange', route);
route();
