// Roster's admin console: the screens, the address each has, sign-in and
// sign-out, and the step-up prompt. Every screen is a module that draws
// itself into #screen from the public API.
import * as api from './api.js';
import { h, draw, guarded } from './dom.js';
import { dashboard } from './dashboard.js';
import { directory } from './directory.js';
import { userScreen } from './user.js';
import { invitations } from './invitations.js';
import { auditLog } from './audit.js';
import { settings } from './settings.js';
import { setup } from './setup.js';
import { signIn } from './signin.js';
import { passkeysSupported, usePasskey } from './webauthn.js';

const $ = (id) => document.getElementById(id);

// The signed-in person, from GET /me: the permissions it lists decide
// which controls are drawn (the API refuses the rest anyway).
export const me = { user: null, can(permission) { return !!this.user && this.user.permissions.includes(permission); } };

const routes = [
  [/^\/console\/?$/, 'dashboard', dashboard],
  [/^\/console\/users\/?$/, 'users', directory],
  [/^\/console\/users\/([^/]+)$/, 'users', userScreen],
  [/^\/console\/invitations\/?$/, 'invitations', invitations],
  [/^\/console\/audit\/?$/, 'audit', auditLog, 'audit:read'],
  [/^\/console\/settings\/?$/, 'settings', settings, 'audit:read'],
];

let drawing = null; // the AbortController of the screen being drawn

export function say(text, kind = '') {
  const m = $('message');
  m.textContent = text;
  m.className = kind;
}

// navigate goes to a console address, as a new history entry unless
// replace is set, and draws its screen.
export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  return render();
}

// render draws the screen of the current address.
export async function render() {
  if (drawing) drawing.abort();
  drawing = new AbortController();
  const signal = drawing.signal;
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  const screen = $('screen');
  document.body.dataset.ready = 'false';
  say('');
  if (path === '/console/setup') {
    showShell(false);
    await setup(screen, params, { signal });
    return ready(screen);
  }
  if (!api.currentSession()) {
    showShell(false);
    signIn(screen, params, { signal });
    return ready(screen);
  }
  try {
    if (!me.user) me.user = await api.get('/me', { signal });
  } catch (err) {
    return failed(err);
  }
  showShell(true);
  const route = routes.find(([re]) => re.test(path)) || routes[0];
  const [re, name, show, needs] = route;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.screen === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    if (needs && !me.can(needs)) {
      draw(screen, h('h1', { tabindex: '-1' }, 'Not available'), h('p', {}, 'Your role cannot see this page.'));
    } else {
      await show(screen, params, { signal, match: path.match(re) });
    }
  } catch (err) {
    if (err.name === 'AbortError') return;
    failed(err);
  }
  ready(screen);
}

function ready(screen) {
  const heading = screen.querySelector('h1');
  if (heading && document.activeElement === document.body) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
  document.body.dataset.ready = 'true';
}

function failed(err) {
  if (err.name === 'AbortError') return;
  say(err.message || String(err), 'error');
}

function showShell(signedIn) {
  $('nav').hidden = !signedIn;
  $('signout').hidden = !signedIn;
  $('who').hidden = !signedIn;
  for (const a of document.querySelectorAll('#nav [data-needs]')) a.hidden = !me.can(a.dataset.needs);
  $('who').textContent = signedIn && me.user ? `${me.user.email} (${me.user.role})` : '';
}

// guard wraps an event handler: see guarded.
export const guard = guarded((text) => say(text, 'error'));

// confirm asks a yes-or-no question in a modal dialog.
export function confirm(title, text, yes = 'Yes') {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-yes').textContent = yes;
  dialog.returnValue = '';
  dialog.showModal();
  $('confirm-no').focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true });
  });
}

export async function signedIn(tokens) {
  api.saveSession(tokens);
  me.user = null;
}

// askStepUp shows the step-up dialog until an app code or a passkey
// raises the session or the person cancels. The API's problem names the
// passkey step-up when a passkey is the person's only second factor.
export async function askStepUp(problem) {
  const dialog = $('stepup');
  const form = $('stepup-form');
  const passkeyOnly = ((problem && problem.detail) || '').includes('/auth/step-up/passkey/');
  const passkeys = passkeyOnly || (passkeysSupported() && (await api.get('/me/passkeys').catch(() => ({ items: [] }))).items.length > 0);
  $('stepup-totp').hidden = passkeyOnly;
  $('stepup-code').required = !passkeyOnly;
  $('stepup-passkey').hidden = !passkeys || !passkeysSupported();
  $('stepup-code').value = '';
  $('stepup-code-error').textContent = '';
  $('stepup-error').textContent = '';
  dialog.showModal();
  (passkeyOnly ? $('stepup-passkey') : $('stepup-code')).focus();
  return new Promise((resolve, reject) => {
    const raised = (tokens) => {
      api.saveSession(tokens);
      done();
      resolve();
    };
    const submit = async (event) => {
      event.preventDefault();
      try {
        raised((await api.call('POST', '/auth/step-up', { method: 'totp', code: $('stepup-code').value.trim() }, { retried: true })).data);
      } catch (err) {
        $('stepup-code').setAttribute('aria-invalid', 'true');
        $('stepup-code-error').textContent = err.message;
      }
    };
    const passkey = async () => {
      try {
        const options = (await api.call('POST', '/auth/step-up/passkey/begin', undefined, { retried: true })).data;
        const credential = await usePasskey(options);
        raised((await api.call('POST', '/auth/step-up/passkey/finish', { credential }, { retried: true })).data);
      } catch (err) {
        $('stepup-error').textContent = err.message;
      }
    };
    const cancel = () => {
      done();
      reject(new Error('The change was not made: it needs a recent second factor.'));
    };
    const done = () => {
      form.removeEventListener('submit', submit);
      $('stepup-passkey').removeEventListener('click', passkey);
      $('stepup-cancel').removeEventListener('click', cancel);
      dialog.removeEventListener('cancel', cancel);
      $('stepup-code').removeAttribute('aria-invalid');
      dialog.close();
    };
    form.addEventListener('submit', submit);
    $('stepup-passkey').addEventListener('click', passkey);
    $('stepup-cancel').addEventListener('click', cancel);
    dialog.addEventListener('cancel', cancel);
  });
}

document.addEventListener('DOMContentLoaded', () => {
  api.onStepUp(askStepUp);
  api.onSignedOut((text) => {
    me.user = null;
    navigate('/console', { replace: true }).then(() => say(text, 'error'));
  });
  // Links inside the console change the address without a reload.
  document.addEventListener('click', (event) => {
    const a = event.target.closest('a[data-nav]');
    if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(a.getAttribute('href'));
  });
  window.addEventListener('popstate', () => render());
  $('signout').addEventListener('click', guard(async () => {
    await api.signOut();
    me.user = null;
    await navigate('/console');
    say('You are signed out.');
  }));
  render();
});
