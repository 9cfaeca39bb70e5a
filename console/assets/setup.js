// The setup link of a new (or locked-out) admin:
// /console/setup?tenant=SLUG&token=rsl_... sets a password, signs in, and
// then asks for a second factor, an authenticator app, as /account does.
import * as api from './api.js';
import { h, draw, field, showFieldErrors } from './dom.js';
import { say, guard, navigate, signedIn, askStepUp } from './app.js';

// secondFactorStep is where a person without a second factor goes when
// their tenant requires one.
export const secondFactorStep = '/console/setup?step=second-factor';

export async function setup(screen, params) {
  const tenant = params.get('tenant') || '';
  if (params.get('step') === 'second-factor' && api.currentSession()) return secondFactor(screen);
  const token = params.get('token');
  if (!token) {
    draw(screen, h('h1', {}, 'Set up your account'),
      h('p', {}, 'This address lacks its token: open the whole setup link you were given.'));
    return;
  }
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, id: 'setup-password' });
  const form = h('form', { id: 'setup-form' },
    field('Choose a password', password, 'Your organisation decides how long it must be.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'setup-submit' }, 'Set password and sign in')));
  draw(screen, h('h1', {}, 'Set up your account'), form);
  say('Choose the password you will sign in with.');
  form.addEventListener('submit', guard(async () => {
    let user;
    try {
      user = await api.send('POST', '/admin-setup/accept', { token, password: password.value }, { auth: false });
    } catch (err) {
      if (err.status === 410) {
        await navigate(`/console?tenant=${encodeURIComponent(tenant)}`, { replace: true });
        throw new Error('This setup link is no longer valid: it was used already, replaced or has expired. ' +
          'Sign in, or ask an operator for a new link (roster user reset-link).');
      }
      showFieldErrors(form, err.fields);
      throw err;
    }
    say('Your password is set. Signing in…');
    const tokens = await api.send('POST', '/auth/login', { tenant, username: user.email, password: password.value }, { auth: false });
    password.value = '';
    if (tokens.mfa_required) {
      // The account has a second factor already: sign in as usual.
      await navigate(`/console?tenant=${encodeURIComponent(tenant)}`, { replace: true });
      say('Your password is set. Sign in with it and your second factor.');
      return;
    }
    await signedIn(tokens);
    // The token leaves the address bar and the tab's history.
    await navigate(`/console/setup?tenant=${encodeURIComponent(tenant)}&step=second-factor`, { replace: true });
  }));
}

async function secondFactor(screen) {
  const start = h('button', { type: 'button', class: 'primary', id: 'totp-start' }, 'Set up an authenticator app');
  const later = h('a', { href: '/console', dataset: { nav: '' }, id: 'setup-later', hidden: api.currentSession().enrolment_only },
    'Not now: go to the dashboard');
  const enrol = h('div', { id: 'totp-enrol', hidden: true });
  draw(screen, 
    h('h1', {}, 'Add a second factor'),
    h('p', {}, 'An administrator account should not depend on a password alone. Set up an authenticator app now.'),
    start, enrol, h('p', {}, later));
  say('Your password is set and you are signed in.');
  start.addEventListener('click', guard(async () => {
    const e = await api.send('POST', '/me/mfa/totp');
    const code = h('input', { name: 'code', id: 'totp-code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true });
    const form = h('form', { id: 'totp-form' }, field('Code from the app', code),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'totp-confirm' }, 'Turn on')));
    enrol.replaceChildren(
      h('p', {}, 'Scan this code with your authenticator app, or type the key.'),
      h('img', { id: 'totp-qr', src: `data:image/png;base64,${e.qr_png}`, alt: 'QR code of the authenticator app key', width: 200, height: 200 }),
      h('p', {}, 'Key: ', h('code', { id: 'totp-secret' }, e.secret)),
      form);
    enrol.hidden = false;
    start.hidden = true;
    code.focus();
    form.addEventListener('submit', guard(async () => {
      try {
        await api.send('POST', '/me/mfa/totp/verify', { code: code.value.trim() });
      } catch (err) {
        showFieldErrors(form, err.fields.length ? err.fields : [{ field: 'code', message: err.message }]);
        throw err;
      }
      // A tenant that requires a second factor let this session enrol one
      // and nothing else: using the new one lets it in fully.
      if (api.currentSession().enrolment_only) await askStepUp();
      await navigate('/console', { replace: true });
      say('Your authenticator app is turned on. Welcome to the console.');
    }));
  }));
}
