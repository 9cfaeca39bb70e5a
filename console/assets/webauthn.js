// Passkey ceremonies in the browser, shared by the console and the account
// page (which imports this file from here): the server's options arrive as
// JSON with base64url strings where WebAuthn wants bytes, and the answer
// goes back as PublicKeyCredential.toJSON() would give it.

export function passkeysSupported() {
  return typeof window.PublicKeyCredential === 'function' && window.isSecureContext;
}

// createPasskey registers a passkey with the options the server began.
export async function createPasskey(options) {
  if (!passkeysSupported()) throw new Error('This browser cannot use passkeys here.');
  const cred = await navigator.credentials.create({ publicKey: creationOptions(options) });
  if (!cred) throw new Error('No passkey was made.');
  return credentialJSON(cred);
}

// usePasskey runs an assertion with the options the server began.
export async function usePasskey(options) {
  if (!passkeysSupported()) throw new Error('This browser cannot use passkeys here.');
  const cred = await navigator.credentials.get({ publicKey: requestOptions(options) });
  if (!cred) throw new Error('No passkey was chosen.');
  return credentialJSON(cred);
}

function fromBase64url(s) {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '=');
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes.buffer;
}

function toBase64url(buf) {
  let bin = '';
  for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeDescriptors(list) {
  return (list || []).map((c) => ({ ...c, id: fromBase64url(c.id) }));
}

function creationOptions(json) {
  const o = { ...json.publicKey };
  o.challenge = fromBase64url(o.challenge);
  o.user = { ...o.user, id: fromBase64url(o.user.id) };
  if (o.excludeCredentials) o.excludeCredentials = decodeDescriptors(o.excludeCredentials);
  return o;
}

function requestOptions(json) {
  const o = { ...json.publicKey };
  o.challenge = fromBase64url(o.challenge);
  if (o.allowCredentials) o.allowCredentials = decodeDescriptors(o.allowCredentials);
  return o;
}

// credentialJSON is the credential as PublicKeyCredential.toJSON() gives
// it, built by hand where a browser lacks toJSON.
function credentialJSON(cred) {
  if (typeof cred.toJSON === 'function') return cred.toJSON();
  const r = cred.response;
  const out = {
    id: cred.id,
    rawId: toBase64url(cred.rawId),
    type: cred.type,
    authenticatorAttachment: cred.authenticatorAttachment || undefined,
    clientExtensionResults: cred.getClientExtensionResults(),
    response: { clientDataJSON: toBase64url(r.clientDataJSON) },
  };
  if (r.attestationObject) {
    out.response.attestationObject = toBase64url(r.attestationObject);
    out.response.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
  } else {
    out.response.authenticatorData = toBase64url(r.authenticatorData);
    out.response.signature = toBase64url(r.signature);
    out.response.userHandle = r.userHandle ? toBase64url(r.userHandle) : null;
  }
  return out;
}
