// The console's one way to the server: the public JSON API under /api/v1,
// with the tokens of the signed-in person. The tokens live in
// sessionStorage, as on the account page: a reload keeps them, other tabs
// do not see them, and closing the tab forgets them. The Content-Security-
// Policy admits no script but the console's own, which keeps them out of
// reach of injected code.

const sessionKey = 'roster.console.session';

let session = load();
let stepUpHandler = null; // (problem) => Promise, set by the app
let signedOutHandler = null; // (message) => void, set by the app

export class APIError extends Error {
  constructor(status, problem) {
    super(describe(status, problem));
    this.status = status;
    this.code = problem && problem.code;
    this.fields = (problem && problem.errors) || [];
  }
}

// OfflineError is a request that never reached the server.
export class OfflineError extends Error {
  constructor() {
    super('The server cannot be reached: check the connection. Nothing was changed; try again.');
  }
}

function describe(status, problem) {
  if (!problem) return `The server answered ${status}.`;
  let text = problem.detail || problem.title || `The server answered ${status}.`;
  if (problem.request_id && status >= 500) text += ` (request ${problem.request_id})`;
  return text;
}

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(sessionKey));
  } catch {
    return null;
  }
}

export function currentSession() {
  return session;
}

export function saveSession(tokens) {
  session = {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token || (session && session.refresh_token),
    enrolment_only: Boolean(tokens.mfa_enrollment_required),
  };
  sessionStorage.setItem(sessionKey, JSON.stringify(session));
}

export function clearSession() {
  session = null;
  sessionStorage.removeItem(sessionKey);
}

export function onStepUp(fn) {
  stepUpHandler = fn;
}

export function onSignedOut(fn) {
  signedOutHandler = fn;
}

// call sends one request. A token that expired is refreshed once; a
// change that needs a step-up asks for one and is sent again; a request
// that cannot reach the server is tried again twice before it fails.
export async function call(method, path, body, opts = {}) {
  const { auth = true, retried = false, signal, contentType } = opts;
  const headers = { Accept: 'application/json, application/problem+json' };
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = contentType || 'application/json';
    payload = contentType ? body : JSON.stringify(body);
  }
  if (auth && session) headers.Authorization = `Bearer ${session.access_token}`;
  const resp = await fetchRetrying(`/api/v1${path}`, {
    method, headers, body: payload, signal, credentials: 'omit', cache: 'no-store',
  }, method === 'GET' ? 3 : 1);
  const data = resp.status === 204 ? null : await resp.json().catch(() => null);
  if (resp.ok) return { status: resp.status, data };
  if (resp.status === 401 && auth && session && !retried) {
    if (data && data.code === 'step_up_required' && stepUpHandler) {
      await stepUpHandler(data);
      return call(method, path, body, { ...opts, retried: true });
    }
    if (session.refresh_token && (await refresh())) return call(method, path, body, { ...opts, retried: true });
    clearSession();
    if (signedOutHandler) signedOutHandler('Your session has ended. Sign in again.');
    throw new APIError(401, data);
  }
  throw new APIError(resp.status, data);
}

// fetchRetrying retries a request that did not reach the server; only
// reads are retried by default, since a change may have been made.
async function fetchRetrying(url, init, attempts) {
  for (let i = 1; ; i++) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      if (i >= attempts) throw new OfflineError();
      await new Promise((resolve) => setTimeout(resolve, 500 * i));
    }
  }
}

// get is call for a read, answering the body.
export async function get(path, opts) {
  return (await call('GET', path, undefined, opts)).data;
}

export async function send(method, path, body, opts) {
  return (await call(method, path, body, opts)).data;
}

async function refresh() {
  try {
    const { data } = await call('POST', '/auth/refresh', { refresh_token: session.refresh_token }, { auth: false });
    saveSession(data);
    return true;
  } catch {
    return false;
  }
}

// signOut ends the session on the server too.
export async function signOut() {
  const refreshToken = session && session.refresh_token;
  clearSession();
  if (refreshToken) await call('POST', '/auth/logout', { refresh_token: refreshToken }, { auth: false }).catch(() => {});
}

// query turns an object into a query string, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
