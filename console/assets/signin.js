// Sign-in: organisation and a passkey, or email or user name and password
// and then a second factor when the account has one (a code or a passkey).
// A person's own passkeys and factors are managed on the account page.
import * as api from './api.js';
import { passkeysSupported, usePasskey } from './webauthn.js';
import { h, draw, field, showFieldErrors } from './dom.js';
import { say, guard, render, navigate, signedIn } from './app.js';
import { secondFactorStep } from './setup.js';

const methodNames = {
  passkey: 'Passkey',
  totp: 'Authenticator app',
  recovery_code: 'Recovery code',
  email: 'Code by email',
  sms: 'Code by text message',
};

export function signIn(screen, params) {
  const tenant = h('input', { name: 'tenant', autocomplete: 'organization', required: true, value: params.get('tenant') || '' });
  const username = h('input', { name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { id: 'signin-form' },
    field('Organisation', tenant),
    field('Email or user name', username),
    field('Password', password),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'signin-submit' }, 'Sign in')));
  const passkey = h('button', { type: 'button', id: 'signin-passkey', hidden: !passkeysSupported() }, 'Sign in with a passkey');
  draw(screen,
    h('h1', {}, 'Sign in to the console'),
    form,
    h('div', { class: 'actions' }, passkey),
    h('p', {}, 'To manage your own passkeys and second factors, use ', h('a', { href: '/account' }, 'your account page'), '.'),
  );
  passkey.addEventListener('click', guard(async () => {
    if (!tenant.value.trim()) {
      tenant.focus();
      throw new Error('Enter your organisation first.');
    }
    say('Waiting for your passkey…');
    const credential = await usePasskey(await api.send('POST', '/auth/passkey/begin', { tenant: tenant.value.trim() }, { auth: false }));
    await finish(await api.send('POST', '/auth/passkey/finish', { tenant: tenant.value.trim(), credential }, { auth: false }));
  }));
  form.addEventListener('submit', guard(async () => {
    say('Signing in…');
    let answer;
    try {
      answer = await api.send('POST', '/auth/login', {
        tenant: tenant.value.trim(), username: username.value.trim(), password: password.value,
      }, { auth: false });
    } catch (err) {
      showFieldErrors(form, err.fields);
      throw err;
    }
    password.value = '';
    if (answer.mfa_required) return secondFactor(screen, answer);
    await finish(answer);
  }));
}

async function finish(tokens) {
  await signedIn(tokens);
  if (tokens.mfa_enrollment_required) {
    await navigate(secondFactorStep);
    say('Your organisation requires a second factor: set up an authenticator app to go on.');
    return;
  }
  say('');
  await render();
}

function secondFactor(screen, challenge) {
  const methods = challenge.methods.filter((m) => methodNames[m] && (m !== 'passkey' || passkeysSupported()));
  const method = h('select', { name: 'method', id: 'mfa-method' },
    methods.map((m) => h('option', { value: m, selected: m === challenge.default_method }, methodNames[m])));
  const code = h('input', { name: 'code', id: 'mfa-code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true });
  const send = h('button', { type: 'button', id: 'mfa-send' }, 'Send me a code');
  const codeField = field('Code', code);
  const form = h('form', { id: 'mfa-form' },
    field('Method', method), send, codeField,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'mfa-verify' }, 'Verify')));
  const update = () => {
    send.hidden = method.value !== 'email' && method.value !== 'sms';
    codeField.hidden = method.value === 'passkey';
    code.required = method.value !== 'passkey';
  };
  method.addEventListener('change', update);
  update();
  send.addEventListener('click', guard(async () => {
    await api.send('POST', '/auth/mfa/challenge', { mfa_token: challenge.mfa_token, method: method.value }, { auth: false });
    say('A code is on its way.');
  }));
  form.addEventListener('submit', guard(async () => {
    const { mfa_token } = challenge;
    if (method.value === 'passkey') {
      say('Waiting for your passkey…');
      const credential = await usePasskey(await api.send('POST', '/auth/mfa/passkey/begin', { mfa_token }, { auth: false }));
      return finish(await api.send('POST', '/auth/mfa/passkey/finish', { mfa_token, credential }, { auth: false }));
    }
    let tokens;
    try {
      tokens = await api.send('POST', '/auth/mfa/verify',
        { mfa_token: challenge.mfa_token, method: method.value, code: code.value.trim() }, { auth: false });
    } catch (err) {
      showFieldErrors(form, err.fields.length ? err.fields : [{ field: 'code', message: err.message }]);
      throw err;
    }
    await finish(tokens);
  }));
  draw(screen, h('h1', {}, 'Second factor'), form);
  if (!methods.length) say('Your second factor is a passkey, which this browser cannot use here.', 'error');
  else say(method.value === 'passkey' ? 'Confirm with your passkey.' : 'Enter the code of your second factor.');
  (method.value === 'passkey' ? method : code).focus();
}
