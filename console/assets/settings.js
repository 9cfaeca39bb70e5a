// Settings: the tenant's security policy as a form (the API judges it and
// names each field at fault, shown beside the field), SCIM tokens (shown
// once when made; revoke) and the SCIM group-to-role mappings.
import * as api from './api.js';
import { h, draw, field, select, showFieldErrors, clearFieldErrors, when } from './dom.js';
import { me, say, guard, render, confirm } from './app.js';
import { roleOptions } from './roles.js';

const methods = [['totp', 'Authenticator app'], ['sms', 'Text message'], ['email', 'Email'], ['passkey', 'Passkey']];

export async function settings(screen, params, { signal }) {
  const tokens = me.can('tokens:write');
  const [policy, scim, groups, roles] = await Promise.all([
    api.get('/tenant/security-policy', { signal }),
    tokens ? api.get('/scim-tokens', { signal }) : null,
    api.get('/scim-group-roles', { signal }),
    roleOptions({ signal }),
  ]);
  draw(screen, h('h1', {}, 'Settings'), policyForm(policy, me.can('tenant:write')),
    tokens ? scimTokens(scim.items) : null, groupRoles(groups.mappings, roles, me.can('users:write')));
}

// readOnly disables a form's controls and drops its buttons, for a person
// who may read what it shows but not change it.
function readOnly(form) {
  form.querySelector('.actions')?.remove();
  for (const b of form.querySelectorAll('button')) b.remove();
  for (const c of form.elements) c.disabled = true;
  return form;
}

function num(name, value) {
  return h('input', { type: 'number', name, id: `policy-${name.replace('.', '-')}`, value: String(value), inputmode: 'numeric' });
}

function policyForm(p, editable) {
  const boxes = methods.map(([m, label], i) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'allowed_methods', value: m, checked: p.allowed_methods.includes(m),
      id: i === 0 ? 'allowed_methods' : `allowed_methods-${m}`, 'aria-describedby': 'allowed_methods-error' }), ` ${label}`));
  const form = h('form', { id: 'policy-form', novalidate: true },
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'mfa_required', id: 'policy-mfa-required', checked: p.mfa_required }),
      ' Every user must have a second factor'),
    h('fieldset', {}, h('legend', {}, 'Second factors users may set up'), boxes,
      h('span', { class: 'field-error', id: 'allowed_methods-error' })),
    h('fieldset', {}, h('legend', {}, 'Passwords'),
      field('Minimum length', num('password.min_length', p.password.min_length)),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'password.reject_common', id: 'policy-reject-common', checked: p.password.reject_common }),
        ' Refuse common passwords')),
    h('fieldset', {}, h('legend', {}, 'Lockout'),
      field('Failed sign-ins before a lockout', num('lockout.max_attempts', p.lockout.max_attempts)),
      field('Lockout in minutes', num('lockout.duration_minutes', p.lockout.duration_minutes))),
    h('fieldset', {}, h('legend', {}, 'Sessions'),
      field('Access token lifetime in minutes', num('session.access_token_minutes', p.session.access_token_minutes)),
      field('Refresh token lifetime in days', num('session.refresh_token_days', p.session.refresh_token_days))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'policy-save' }, 'Save the policy')));
  form.addEventListener('submit', guard(async () => {
    const v = (name) => Number(form.elements[name].value);
    const body = {
      mfa_required: form.elements.mfa_required.checked,
      allowed_methods: [...form.querySelectorAll('[name=allowed_methods]:checked')].map((c) => c.value),
      password: { min_length: v('password.min_length'), reject_common: form.elements['password.reject_common'].checked },
      lockout: { max_attempts: v('lockout.max_attempts'), duration_minutes: v('lockout.duration_minutes') },
      session: { access_token_minutes: v('session.access_token_minutes'), refresh_token_days: v('session.refresh_token_days') },
    };
    try {
      await api.send('PUT', '/tenant/security-policy', body);
    } catch (err) {
      showFieldErrors(form, err.fields);
      throw new Error('The policy was not saved: correct the fields marked.');
    }
    clearFieldErrors(form);
    say('The security policy is saved.');
  }));
  return h('section', { 'aria-labelledby': 'h-policy' }, h('h2', { id: 'h-policy' }, 'Security policy'), editable ? form : readOnly(form));
}

function scimTokens(items) {
  const name = h('input', { name: 'name', id: 'scim-token-name', required: true, maxlength: 100, placeholder: 'okta' });
  const shown = h('div', { id: 'scim-token-new', 'aria-live': 'polite' });
  const form = h('form', { id: 'scim-token-form' }, field('Name', name),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'scim-token-create' }, 'Make a SCIM token')), shown);
  form.addEventListener('submit', guard(async () => {
    let t;
    try {
      t = await api.send('POST', '/scim-tokens', { name: name.value.trim() });
    } catch (err) {
      showFieldErrors(form, err.fields);
      throw err;
    }
    name.value = '';
    // Shown this once: the server keeps only its hash.
    shown.replaceChildren(h('p', {}, 'Copy the token now: it is not shown again.'), h('code', { id: 'scim-token-secret' }, t.token));
    say(`The SCIM token “${t.name}” is made.`);
  }));
  const rows = items.map((t) => h('tr', {},
    h('td', {}, t.name), h('td', {}, h('code', {}, t.prefix)), h('td', {}, when(t.created_at)), h('td', {}, when(t.last_used_at)),
    h('td', {}, h('button', { type: 'button', 'aria-label': `Revoke the SCIM token ${t.name}`, onclick: guard(async () => {
      if (!(await confirm('Revoke the SCIM token', `Revoke “${t.name}”? The identity provider using it stops provisioning.`, 'Revoke'))) return;
      await api.send('DELETE', `/scim-tokens/${encodeURIComponent(t.id)}`);
      await render();
      say(`The SCIM token “${t.name}” is revoked.`);
    }) }, 'Revoke'))));
  return h('section', { 'aria-labelledby': 'h-scim' }, h('h2', { id: 'h-scim' }, 'SCIM tokens'),
    rows.length ? h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Prefix', 'Made', 'Last used', ''].map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, rows))
      : h('p', {}, 'No SCIM tokens.'),
    form);
}

function groupRoles(mappings, roles, editable) {
  const list = h('div', { id: 'group-roles' });
  const addRow = (group = '', role = 'viewer') => {
    const n = list.children.length;
    const g = h('input', { name: `group-${n}`, id: `group-${n}`, value: group, 'aria-label': `Group ${n + 1}` });
    const r = select(`role-${n}`, roles, role);
    r.setAttribute('aria-label', `Role of group ${n + 1}`);
    list.append(h('div', { class: 'mapping' }, g, r));
  };
  for (const [g, r] of Object.entries(mappings)) addRow(g, r);
  const add = h('button', { type: 'button', id: 'group-add' }, 'Add a group');
  add.addEventListener('click', () => { addRow(); list.lastElementChild.querySelector('input').focus(); });
  const form = h('form', { id: 'group-form' }, list, add,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'group-save' }, 'Save the mappings')));
  form.addEventListener('submit', guard(async () => {
    const out = {};
    for (const row of list.children) {
      const [g, r] = row.querySelectorAll('input, select');
      if (g.value.trim()) out[g.value.trim()] = r.value;
    }
    await api.send('PUT', '/scim-group-roles', { mappings: out });
    say('The group mappings are saved.');
  }));
  return h('section', { 'aria-labelledby': 'h-groups' }, h('h2', { id: 'h-groups' }, 'SCIM groups and roles'),
    h('p', {}, 'Members of a group pushed by the identity provider get its role.'), editable ? form : readOnly(form));
}
