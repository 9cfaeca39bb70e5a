// Roster's self-service account page: sign-in (password with a second
// factor, or a passkey), accepting an invitation (at /account/accept), the
// authenticator app and passkeys, all through the JSON API. The tokens live in sessionStorage: they survive a reload of
// this tab but no other tab sees them, and they are gone when the tab
// closes (localStorage would keep a session on the disk for days). The
// page's Content-Security-Policy admits no script but Roster's own, which
// is what keeps them out of reach of injected code; names are always
// written with textContent, never as HTML. It is a module and shares two of
// the console's: webauthn.js (the passkey ceremonies) and dom.js (guarded
// event handlers).
import { passkeysSupported, createPasskey, usePasskey as getPasskey } from '/console/assets/webauthn.js';
import { guarded } from '/console/assets/dom.js';

(() => {
  const sessionKey = 'roster.account.session';
  const $ = (id) => document.getElementById(id);

  let session = loadSession(); // {access_token, refresh_token, enrolment_only}
  let challenge = null; // {mfa_token, methods} while a second factor is due
  let stepUpWaiter = null; // {resolve, reject} while a step-up is asked for
  let passkeyCount = 0; // the signed-in user's passkeys, to offer one for a step-up

  class APIError extends Error {
    constructor(status, problem) {
      super(describe(status, problem));
      this.status = status;
      this.code = problem && problem.code;
      this.fields = (problem && problem.errors) || [];
    }
  }

  function describe(status, problem) {
    if (!problem) return `The server answered ${status}.`;
    let text = problem.detail || problem.title || `The server answered ${status}.`;
    for (const e of problem.errors || []) if (!text.includes(e.message)) text += ` ${e.field}: ${e.message}.`;
    return text;
  }

  function loadSession() {
    try {
      return JSON.parse(sessionStorage.getItem(sessionKey));
    } catch {
      return null;
    }
  }

  function saveSession(tokens) {
    session = {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token || (session && session.refresh_token),
      enrolment_only: Boolean(tokens.mfa_enrollment_required),
    };
    sessionStorage.setItem(sessionKey, JSON.stringify(session));
  }

  function clearSession() {
    session = null;
    sessionStorage.removeItem(sessionKey);
  }

  // call sends one request to the JSON API. A token that expired is
  // refreshed once; a change that needs a step-up asks for one and is
  // sent again.
  async function call(method, path, body, { auth = true, retried = false } = {}) {
    const headers = { Accept: 'application/json, application/problem+json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && session) headers.Authorization = `Bearer ${session.access_token}`;
    const resp = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
    const data = resp.status === 204 ? null : await resp.json().catch(() => null);
    if (resp.ok) return data;
    if (resp.status === 401 && auth && session && !retried) {
      if (data && data.code === 'step_up_required') {
        // The server names the passkey step-up when a passkey is the
        // user's only factor.
        await askStepUp((data.detail || '').includes('/auth/step-up/passkey/'));
        return call(method, path, body, { retried: true });
      }
      if (session.refresh_token && (await refresh())) return call(method, path, body, { retried: true });
      // The session is over (signed out elsewhere, or revoked).
      clearSession();
      showSignIn();
      throw new Error('Your session has ended. Sign in again.');
    }
    throw new APIError(resp.status, data);
  }

  // send is call without a credential, for the sign-in endpoints.
  function send(method, path, body) {
    return call(method, path, body, { auth: false });
  }

  async function refresh() {
    try {
      saveSession(await send('POST', '/auth/refresh', { refresh_token: session.refresh_token }));
      return true;
    } catch {
      return false;
    }
  }

  function say(text, isError = false) {
    const m = $('message');
    m.textContent = text;
    m.className = isError ? 'error' : '';
  }

  // guard wraps an event handler: the button that started it stays
  // disabled meanwhile, so that a second click does not start a second
  // ceremony, and what went wrong is said.
  const guard = guarded((text) => say(text, true));

  function show(section) {
    for (const id of ['accept', 'signin', 'signup', 'verify', 'forgot', 'reset', 'mfa', 'account']) $(id).hidden = id !== section;
  }

  // --- sign-in ---

  async function signedIn(answer) {
    if (answer.mfa_required) {
      challenge = { mfa_token: answer.mfa_token, methods: answer.methods };
      const select = $('mfa-method');
      select.replaceChildren();
      for (const m of answer.methods) {
        const option = document.createElement('option');
        option.value = m;
        option.textContent = methodNames[m] || m;
        select.append(option);
      }
      if (answer.default_method) select.value = answer.default_method;
      onMethodChange();
      $('mfa-code').value = '';
      show('mfa');
      say('Enter the code of your second factor.');
      $('mfa-code').focus();
      return;
    }
    challenge = null;
    saveSession(answer);
    $('password').value = '';
    await showAccount();
  }

  const methodNames = {
    totp: 'Authenticator app',
    recovery_code: 'Recovery code',
    email: 'Code by email',
    sms: 'Code by text message',
    passkey: 'Passkey',
  };

  function onMethodChange() {
    const m = $('mfa-method').value;
    $('mfa-send').hidden = m !== 'email' && m !== 'sms';
    $('mfa-passkey').hidden = m !== 'passkey';
    $('mfa-code-label').hidden = m === 'passkey';
    $('mfa-verify').hidden = m === 'passkey';
    $('mfa-code').required = m !== 'passkey';
  }

  const passwordSignIn = guard(async () => {
    say('Signing in…');
    await signedIn(
      await send('POST', '/auth/login', {
        tenant: $('tenant').value.trim(),
        username: $('username').value.trim(),
        password: $('password').value,
      }),
    );
  });

  const verifySecondFactor = guard(async () => {
    const tokens = await send('POST', '/auth/mfa/verify', {
      mfa_token: challenge.mfa_token,
      method: $('mfa-method').value,
      code: $('mfa-code').value.trim(),
    });
    await signedIn(tokens);
  });

  const sendCode = guard(async () => {
    await send('POST', '/auth/mfa/challenge', { mfa_token: challenge.mfa_token, method: $('mfa-method').value });
    say('A code is on its way.');
  });

  // usePasskey runs a WebAuthn assertion with the options the server began.
  function usePasskey(options) {
    say('Waiting for your passkey…');
    return getPasskey(options);
  }

  const passkeySecondFactor = guard(async () => {
    const { mfa_token } = challenge;
    const credential = await usePasskey(await send('POST', '/auth/mfa/passkey/begin', { mfa_token }));
    await signedIn(await send('POST', '/auth/mfa/passkey/finish', { mfa_token, credential }));
  });

  const passkeySignIn = guard(async () => {
    if (!passkeysSupported()) throw new Error('This browser cannot use passkeys here.');
    const tenant = $('tenant').value.trim();
    if (!tenant) {
      $('tenant').focus();
      throw new Error('Enter your organisation first.');
    }
    const credential = await usePasskey(await send('POST', '/auth/passkey/begin', { tenant }));
    await signedIn(await send('POST', '/auth/passkey/finish', { tenant, credential }));
  });

  // --- single sign-on: buttons of the organisation's connections, and
  // discovery by the domain of the email typed ---

  // startSSO sends the browser to the identity provider; it comes back to
  // this page with a one-time code in the fragment.
  function startSSO(params) {
    const q = new URLSearchParams({ tenant: $('tenant').value.trim(), return_to: '/account', ...params });
    location.assign(`/api/v1/auth/sso/start?${q}`);
  }

  async function listSSOButtons() {
    const tenant = $('tenant').value.trim();
    const box = $('sso-buttons');
    box.replaceChildren();
    if (!tenant) return;
    const answer = await send('GET', `/auth/sso/connections?${new URLSearchParams({ tenant })}`).catch(() => null);
    for (const c of (answer && answer.items) || []) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'sso-button';
      button.dataset.connection = c.id;
      button.textContent = `Sign in with ${c.name}`;
      button.addEventListener('click', () => startSSO({ connection: c.id }));
      box.append(button);
    }
  }

  const discoverSSO = guard(async () => {
    const email = $('username').value.trim();
    if (!$('tenant').value.trim() || !email.includes('@')) {
      throw new Error('Enter your organisation and your email address first.');
    }
    startSSO({ email });
  });

  // finishSSO spends the one-time code a federated sign-in left in the
  // fragment, which it first takes out of the address bar and history, or
  // tells why the sign-in was refused.
  async function finishSSO() {
    const params = new URLSearchParams(location.hash.slice(1));
    history.replaceState(null, '', location.pathname + location.search);
    if (params.get('sso_error')) throw new Error(params.get('sso_error'));
    say('Signing in…');
    await signedIn(await send('POST', '/auth/sso/exchange', { code: params.get('sso_code') }));
  }

  const signOut = guard(async () => {
    const refreshToken = session && session.refresh_token;
    clearSession();
    if (refreshToken) await send('POST', '/auth/logout', { refresh_token: refreshToken }).catch(() => {});
    showSignIn();
    say('You are signed out.');
  });

  function showSignIn() {
    // A step-up still asked for belongs to the session that ended.
    $('stepup').hidden = true;
    stepUpWaiter = null;
    $('totp-enrol').hidden = true;
    $('passkey-list').replaceChildren();
    $('passkey-signin').hidden = !passkeysSupported();
    show('signin');
  }

  // --- a forgotten password: ask for a link (/account/reset), then use it
  // (/account/reset?tenant=...&token=...) ---

  function resetToken() {
    return location.pathname === '/account/reset' ? new URLSearchParams(location.search).get('token') : null;
  }

  function showForgot() {
    $('forgot-tenant').value = $('forgot-tenant').value || $('tenant').value;
    show('forgot');
    say('');
    $('forgot-tenant').value ? $('forgot-email').focus() : $('forgot-tenant').focus();
  }

  const askReset = guard(async () => {
    const answer = await send('POST', '/auth/password-reset', { tenant: $('forgot-tenant').value.trim(), email: $('forgot-email').value.trim() });
    say(answer.detail);
  });

  const confirmReset = guard(async () => {
    $('reset-password').removeAttribute('aria-invalid');
    try {
      await send('POST', '/auth/password-reset/confirm', { token: resetToken(), new_password: $('reset-password').value });
    } catch (err) {
      if (err.status === 410) {
        leaveLink(new URLSearchParams(location.search).get('tenant'));
        showForgot();
        throw new Error('This link is no longer valid: it was used already, replaced or has expired. Ask for a new one.');
      }
      if ((err.fields || []).some((f) => f.field === 'new_password')) $('reset-password').setAttribute('aria-invalid', 'true');
      throw err;
    }
    $('reset-password').value = '';
    leaveLink(new URLSearchParams(location.search).get('tenant'));
    showSignIn();
    say('Your password is changed, and every session of your account is signed out. Sign in with the new password.');
    $('username').focus();
  });

  // --- signing up (/account/signup) and confirming the address
  // (/account/verify?tenant=...&token=...) ---

  // offerSignUp shows the sign-up link when the server lets anyone sign up.
  async function offerSignUp() {
    const answer = await send('GET', '/signup').catch(() => ({ open: false }));
    $('signup-offer').hidden = !answer.open;
    return answer.open;
  }

  const showSignUp = guard(async () => {
    if (!(await offerSignUp())) {
      history.replaceState(null, '', '/account');
      showSignIn();
      throw new Error('Sign-up is closed on this server: ask its operator for an organisation.');
    }
    show('signup');
    say('');
    $('signup-org-name').focus();
  });

  const signUp = guard(async () => {
    const slug = $('signup-org-slug').value.trim();
    const organisation = { name: $('signup-org-name').value.trim() };
    if (slug) organisation.slug = slug;
    const answer = await send('POST', '/signup', {
      email: $('signup-email').value.trim(),
      password: $('signup-password').value,
      given_name: $('signup-given-name').value.trim(),
      family_name: $('signup-family-name').value.trim(),
      organisation,
    });
    $('signup-password').value = '';
    $('resend-tenant').value = slug;
    $('resend-email').value = $('signup-email').value.trim();
    show('verify');
    say(answer.detail);
  });

  const resendVerification = guard(async () => {
    const answer = await send('POST', '/auth/verify-email/resend', {
      tenant: $('resend-tenant').value.trim(),
      email: $('resend-email').value.trim(),
    });
    say(answer.detail);
  });

  // verifyEmail posts the token of a verification link, once it is out of
  // the address bar, and then offers the sign-in.
  const verifyEmail = guard(async () => {
    const params = new URLSearchParams(location.search);
    const tenant = params.get('tenant') || '';
    leaveLink(tenant);
    $('tenant').value = tenant;
    $('resend-tenant').value = tenant;
    try {
      say('Confirming your address…');
      await send('POST', '/auth/verify-email', { token: params.get('token') || '' });
    } catch (err) {
      show('verify');
      if (err.status === 410) throw new Error('This link is no longer valid: it was used already, replaced or has expired. Ask for a new one.');
      throw err;
    }
    showSignIn();
    say('Your address is confirmed. Sign in to your new organisation.');
    $('username').focus();
  });

  // --- accepting an invitation: the link of an invitation mail ---

  const acceptInputs = {
    password: 'accept-password',
    user_name: 'accept-user-name',
    given_name: 'accept-given-name',
    family_name: 'accept-family-name',
  };

  // invitationLink is the token and tenant of the address when it is an
  // invitation link.
  function invitationLink() {
    if (location.pathname !== '/account/accept') return null;
    const params = new URLSearchParams(location.search);
    const token = params.get('token');
    return token ? { token, tenant: params.get('tenant') || '' } : null;
  }

  // leaveLink takes the token of an invitation or reset link out of the
  // address bar and the tab's history: a reload or a shared screenshot no
  // longer carries it.
  function leaveLink(tenant) {
    history.replaceState(null, '', tenant ? `/account?tenant=${encodeURIComponent(tenant)}` : '/account');
  }

  function showAccept() {
    show('accept');
    say('Choose a password to join your organisation.');
    $('accept-password').focus();
  }

  const acceptInvitation = guard(async () => {
    const link = invitationLink();
    if (!link) throw new Error('This page was not opened from an invitation link.');
    for (const id of Object.values(acceptInputs)) $(id).removeAttribute('aria-invalid');
    const password = $('accept-password').value;
    const body = { token: link.token, password };
    for (const [field, id] of Object.entries(acceptInputs)) {
      const value = $(id).value.trim();
      if (field !== 'password' && value) body[field] = value;
    }
    say('Accepting the invitation…');
    let user;
    try {
      user = await send('POST', '/invitations/accept', body);
    } catch (err) {
      if (err.status === 410) {
        leaveLink(link.tenant);
        if (session) await showAccount();
        else showSignIn();
        throw new Error(
          'This invitation link is no longer valid: it was used already, revoked or has expired. ' +
            'Ask your administrator for a new invitation, or sign in if you accepted it.',
        );
      }
      for (const f of err.fields || []) if (acceptInputs[f.field]) $(acceptInputs[f.field]).setAttribute('aria-invalid', 'true');
      throw err;
    }
    $('accept-password').value = '';
    leaveLink(link.tenant);
    // Whoever was signed in in this tab is not the person who just joined.
    if (session) {
      const refreshToken = session.refresh_token;
      clearSession();
      if (refreshToken) await send('POST', '/auth/logout', { refresh_token: refreshToken }).catch(() => {});
    }
    $('tenant').value = link.tenant;
    $('username').value = user.email;
    say('Your account is ready. Signing in…');
    let answer;
    try {
      answer = await send('POST', '/auth/login', { tenant: link.tenant, username: user.email, password });
    } catch (err) {
      showSignIn();
      throw new Error(`Your account is ready, but signing in failed: ${err.message} Sign in with your new password.`);
    }
    await signedIn(answer);
  });

  // --- step-up: a change that needs a recent second factor ---

  function askStepUp(passkeyOnly = false) {
    $('stepup-code').value = '';
    $('stepup-totp').hidden = passkeyOnly;
    $('stepup-code').required = !passkeyOnly;
    $('stepup-passkey').hidden = !passkeysSupported() || (passkeyCount === 0 && !passkeyOnly);
    $('stepup-passkey').textContent = passkeyOnly ? 'Use your passkey' : 'Use a passkey instead';
    $('stepup').hidden = false;
    (passkeyOnly ? $('stepup-passkey') : $('stepup-code')).focus();
    say(session.enrolment_only ? 'Use your new second factor to finish signing in.' : 'Confirm it is you to go on.');
    return new Promise((resolve, reject) => {
      stepUpWaiter = { resolve, reject };
    });
  }

  function endStepUp() {
    $('stepup').hidden = true;
    const waiter = stepUpWaiter;
    stepUpWaiter = null;
    return waiter;
  }

  const confirmStepUp = guard(async () => {
    const tokens = await call('POST', '/auth/step-up', { method: 'totp', code: $('stepup-code').value.trim() }, { retried: true });
    saveSession(tokens);
    const waiter = endStepUp();
    if (waiter) waiter.resolve();
  });

  const passkeyStepUp = guard(async () => {
    const credential = await usePasskey(await call('POST', '/auth/step-up/passkey/begin', undefined, { retried: true }));
    saveSession(await call('POST', '/auth/step-up/passkey/finish', { credential }, { retried: true }));
    const waiter = endStepUp();
    if (waiter) waiter.resolve();
  });

  function cancelStepUp() {
    const waiter = endStepUp();
    if (waiter) waiter.reject(new Error('The change was not made: it needs a recent second factor.'));
  }

  // --- the signed-in account ---

  // showAccount draws the signed-in view. The body is not ready until its
  // lists are in, so that nothing moves under a pointer after that.
  async function showAccount() {
    document.body.dataset.ready = 'false';
    try {
      const me = await call('GET', '/me');
      $('me-email').textContent = me.email;
      $('me-name').textContent = me.display_name ? `(${me.display_name})` : '';
      show('account');
      say(
        session.enrolment_only
          ? 'Your organisation requires a second factor: set up an authenticator app or a passkey below.'
          : 'You are signed in.',
      );
      await listPasskeys();
      await listSessions();
    } finally {
      document.body.dataset.ready = 'true';
    }
  }

  // --- sessions: where the account is signed in ---

  async function listSessions() {
    const section = $('sessions');
    if (session.enrolment_only) {
      section.hidden = true;
      return;
    }
    const { items } = await call('GET', '/me/sessions');
    $('session-list').replaceChildren(...items.map(sessionItem));
    $('sessions-end-others').hidden = items.length < 2;
    section.hidden = false;
  }

  function sessionItem(s) {
    const li = document.createElement('li');
    li.dataset.id = s.id;
    const what = s.user_agent || 'An unknown browser';
    li.textContent = `${what} · ${s.address || 'unknown address'} · since ${when(s.created_at)} · last seen ${when(s.last_seen_at)}` +
      (s.current ? ' · this browser' : '');
    if (!s.current) {
      const end = document.createElement('button');
      end.type = 'button';
      end.className = 'session-end';
      end.textContent = 'Sign out';
      end.setAttribute('aria-label', `Sign out ${what}`);
      end.addEventListener('click', guard(async () => {
        await call('DELETE', `/me/sessions/${encodeURIComponent(s.id)}`);
        await listSessions();
        say('That session is signed out.');
      }));
      li.append(' ', end);
    }
    return li;
  }

  const endOtherSessions = guard(async () => {
    const { ended } = await call('DELETE', '/me/sessions');
    await listSessions();
    say(ended === 1 ? 'One other session is signed out.' : `${ended} other sessions are signed out.`);
  });

  const startTOTP = guard(async () => {
    const e = await call('POST', '/me/mfa/totp');
    $('totp-qr').src = `data:image/png;base64,${e.qr_png}`;
    $('totp-secret').textContent = e.secret;
    $('totp-code').value = '';
    $('totp-enrol').hidden = false;
    say('Scan the code, then type the six digits your app shows.');
  });

  const confirmTOTP = guard(async () => {
    await call('POST', '/me/mfa/totp/verify', { code: $('totp-code').value.trim() });
    $('totp-enrol').hidden = true;
    $('totp-secret').textContent = '';
    $('totp-qr').removeAttribute('src');
    say('Your authenticator app is turned on.');
    await finishEnrolment();
  });

  // finishEnrolment lifts an enrolment-only session: a tenant that requires
  // a second factor lets its user in fully once they use the new one.
  async function finishEnrolment() {
    if (!session.enrolment_only) return;
    await askStepUp();
    await showAccount();
  }

  async function listPasskeys() {
    const section = $('passkeys');
    passkeyCount = 0;
    if (!passkeysSupported()) {
      section.hidden = true;
      return;
    }
    let page;
    try {
      page = await call('GET', '/me/passkeys');
    } catch (err) {
      // A server without passkeys still serves the rest of the page.
      if (err.status !== 404) throw err;
      section.hidden = true;
      return;
    }
    const items = page.items || page;
    passkeyCount = items.length;
    const list = $('passkey-list');
    list.replaceChildren(...items.map(passkeyItem));
    $('passkeys-empty').hidden = items.length > 0;
    list.hidden = items.length === 0;
    section.hidden = false;
  }

  function when(t) {
    return new Date(t).toLocaleString();
  }

  function uses(p) {
    if (!p.use_count) return 'not used yet';
    const times = p.use_count === 1 ? 'once' : `${p.use_count} times`;
    return `used ${times}, last ${when(p.last_used_at)}`;
  }

  function passkeyItem(p) {
    const li = $('passkey-item').content.firstElementChild.cloneNode(true);
    li.dataset.id = p.id;
    li.querySelector('.passkey-name').value = p.name;
    li.querySelector('.passkey-meta').textContent =
      `Added ${when(p.created_at)} · ${uses(p)}` +
      (p.authenticator ? ` · ${p.authenticator}` : '');
    li.querySelector('.passkey-rename-form').addEventListener(
      'submit',
      guard(async () => {
        const name = li.querySelector('.passkey-name').value.trim();
        await call('PATCH', `/me/passkeys/${encodeURIComponent(p.id)}`, { name });
        await listPasskeys();
        say(`The passkey is now called “${name}”.`);
      }),
    );
    li.querySelector('.passkey-remove').addEventListener(
      'click',
      guard(async () => {
        await call('DELETE', `/me/passkeys/${encodeURIComponent(p.id)}`);
        await listPasskeys();
        say(`The passkey “${p.name}” is removed.`);
      }),
    );
    return li;
  }

  const addPasskey = guard(async () => {
    const name = $('passkey-name').value.trim();
    say('Waiting for your authenticator…');
    const credential = await createPasskey(await call('POST', '/me/passkeys/register/begin'));
    await call('POST', '/me/passkeys/register/finish', { name, credential });
    $('passkey-name').value = '';
    await listPasskeys();
    say(`The passkey “${name}” is added.`);
    await finishEnrolment();
  });

  // --- wiring ---

  document.addEventListener('DOMContentLoaded', () => {
    $('accept-form').addEventListener('submit', acceptInvitation);
    $('password-form').addEventListener('submit', passwordSignIn);
    $('passkey-signin').addEventListener('click', passkeySignIn);
    $('mfa-form').addEventListener('submit', verifySecondFactor);
    $('mfa-method').addEventListener('change', onMethodChange);
    $('mfa-send').addEventListener('click', sendCode);
    $('mfa-cancel').addEventListener('click', () => {
      challenge = null;
      showSignIn();
      say('');
    });
    $('stepup-form').addEventListener('submit', confirmStepUp);
    $('stepup-passkey').addEventListener('click', passkeyStepUp);
    $('stepup-cancel').addEventListener('click', cancelStepUp);
    $('mfa-passkey').addEventListener('click', passkeySecondFactor);
    $('signout').addEventListener('click', signOut);
    $('totp-start').addEventListener('click', startTOTP);
    $('totp-confirm-form').addEventListener('submit', confirmTOTP);
    $('passkey-add-form').addEventListener('submit', addPasskey);
    $('sso-discover').addEventListener('click', discoverSSO);
    $('tenant').addEventListener('change', () => listSSOButtons());

    const tenant = new URLSearchParams(location.search).get('tenant');
    if (tenant) {
      $('tenant').value = tenant;
      listSSOButtons();
    }
    $('forgot-link').addEventListener('click', (event) => {
      event.preventDefault();
      history.pushState(null, '', '/account/reset');
      showForgot();
    });
    $('forgot-form').addEventListener('submit', askReset);
    $('sessions-end-others').addEventListener('click', endOtherSessions);
    $('reset-form').addEventListener('submit', confirmReset);
    $('signup-form').addEventListener('submit', signUp);
    $('resend-form').addEventListener('submit', resendVerification);
    $('signup-link').addEventListener('click', (event) => {
      event.preventDefault();
      history.pushState(null, '', '/account/signup');
      showSignUp();
    });
    window.addEventListener('popstate', () => {
      if (location.pathname === '/account/reset' && !resetToken()) showForgot();
      else if (!session) showSignIn();
    });
    if (/sso_(code|error)=/.test(location.hash)) {
      guard(async () => {
        try {
          await finishSSO();
        } catch (err) {
          showSignIn();
          throw err;
        }
      })();
    } else if (invitationLink()) {
      showAccept();
    } else if (location.pathname === '/account/verify') {
      verifyEmail();
    } else if (location.pathname === '/account/signup') {
      showSignUp();
    } else if (resetToken()) {
      show('reset');
      say('Choose a new password for your account.');
      $('reset-password').focus();
    } else if (location.pathname === '/account/reset') {
      showForgot();
    } else if (session) {
      guard(async () => {
        try {
          await showAccount();
        } catch (err) {
          if (err.status === 401) {
            clearSession();
            showSignIn();
          }
          throw err;
        }
      })();
    } else {
      showSignIn();
    }
    offerSignUp();
    document.body.dataset.ready = 'true';
  });
})();
