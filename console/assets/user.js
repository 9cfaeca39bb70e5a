// One user: profile and role, status, lockout, how they sign in (second
// factors and passkeys), and their audit trail.
import * as api from './api.js';
import { h, draw, field, select, showFieldErrors, when, number } from './dom.js';
import { me, say, guard, confirm, render } from './app.js';
import { roleOptions } from './roles.js';

export async function userScreen(screen, params, { signal, match }) {
  const id = decodeURIComponent(match[1]);
  const base = `/users/${encodeURIComponent(id)}`;
  const [u, sec, roles] = await Promise.all([api.get(base, { signal }), api.get(`${base}/security`, { signal }),
    me.can('users:write') ? roleOptions({ signal }) : null]);
  const trail = me.can('audit:read') ? await api.get(`/audit-events${api.query({ target_id: id, limit: 20 })}`, { signal }) : null;
  const edit = (name, label, value) => field(label, h('input', { name, value: value || '', maxlength: 255, readonly: !me.can('users:write') }));
  const profile = h('form', { id: 'profile-form' },
    edit('given_name', 'Given name', u.given_name),
    edit('family_name', 'Family name', u.family_name),
    edit('display_name', 'Display name', u.display_name),
    me.can('users:write') ? field('Role', select('role', roles, u.role))
      : h('p', {}, `Role: ${u.role}`),
    me.can('users:write') ? h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'profile-save' }, 'Save')) : null);
  profile.addEventListener('submit', guard(async () => {
    const body = {};
    for (const name of ['given_name', 'family_name', 'display_name', 'role']) body[name] = profile.elements[name].value.trim();
    try {
      await api.send('PATCH', base, body);
    } catch (err) {
      showFieldErrors(profile, err.fields);
      throw err;
    }
    await render();
    say('Saved.');
  }));

  const actions = me.can('users:write') ? h('div', { class: 'actions' },
    u.pending_approval ? button('Approve', 'approve', async () => {
      await api.send('POST', `${base}/approve`);
      return 'The user is approved and can sign in.';
    }) : button(u.active ? 'Deactivate' : 'Activate', 'toggle-active', async () => {
      await api.send('PATCH', base, { active: !u.active });
      return u.active ? 'The user is deactivated.' : 'The user is active again.';
    }),
    sec.locked_until ? button('Unlock', 'unlock', async () => {
      await api.send('POST', `${base}/unlock`);
      return 'The user is unlocked.';
    }) : null,
    sec.mfa_enabled || sec.passkeys.length ? button('Reset second factors', 'reset-mfa', async () => {
      if (!(await confirm('Reset second factors', `Remove every second factor and passkey of ${u.email}? They will have to set them up again.`, 'Reset'))) return null;
      await api.send('DELETE', `${base}/mfa`);
      return 'Their second factors are removed.';
    }) : null) : null;

  const passkeys = sec.passkeys.map((p) => h('li', {},
    h('strong', {}, p.name), ` · ${p.authenticator || 'unknown authenticator'} · ${p.backed_up ? 'synced' : 'device-bound'}`,
    ` · used ${number(p.use_count || 0)} times, last ${when(p.last_used_at)}`,
    me.can('users:write') ? button('Revoke', `revoke-${p.id}`, async () => {
      if (!(await confirm('Revoke the passkey', `Revoke the passkey “${p.name}” of ${u.email}? They are told by email.`, 'Revoke'))) return null;
      await api.send('DELETE', `${base}/passkeys/${encodeURIComponent(p.id)}`);
      return 'The passkey is revoked.';
    }) : null));

  draw(screen, 
    h('h1', {}, u.email),
    h('p', {}, `${u.active ? 'Active' : 'Deactivated'} · created ${when(u.created_at)} · last sign-in ${when(u.last_login_at)}`,
      sec.locked_until ? ` · locked until ${when(sec.locked_until)}` : ''),
    actions,
    h('h2', {}, 'Profile'), profile,
    h('h2', {}, 'How they sign in'),
    h('ul', {},
      h('li', {}, sec.password_set ? 'Has a password' : 'Has no password'),
      h('li', {}, sec.mfa_enabled ? `Second factors: ${sec.methods.filter((m) => m.verified).map((m) => m.type).join(', ')}` : 'No second factor'),
      h('li', {}, `${number(sec.recovery_codes_remaining)} recovery codes left`),
      h('li', {}, `${number(sec.failed_login_attempts)} failed sign-ins since the last success`)),
    h('h3', {}, 'Passkeys'),
    passkeys.length ? h('ul', { id: 'passkeys' }, passkeys) : h('p', {}, 'No passkeys.'),
    trail ? [h('h2', {}, 'Audit trail'), eventsTable(trail.items)] : null,
  );
}

function button(label, id, fn) {
  const b = h('button', { type: 'button', id });
  b.textContent = label;
  b.addEventListener('click', guard(async () => {
    const done = await fn();
    if (done === null) return;
    await render();
    say(done);
  }));
  return b;
}

export function eventsTable(events) {
  if (!events.length) return h('p', {}, 'No events.');
  return h('table', { class: 'events' },
    h('thead', {}, h('tr', {}, ['When', 'Action', 'Actor', 'Target', 'Details'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, events.map((e) => h('tr', {},
      h('td', {}, when(e.occurred_at)),
      h('td', {}, e.action),
      h('td', {}, `${e.actor_type} ${e.actor_id}`),
      h('td', {}, `${e.target_type} ${e.target_id}`),
      h('td', {}, h('code', {}, JSON.stringify(e.details)))))));
}
