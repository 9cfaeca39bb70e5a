// Invitations: invite one person, upload a CSV (email,role) with a result
// for each row, list by status, resend, revoke.
import * as api from './api.js';
import { h, draw, field, select, showFieldErrors, clearFieldErrors, when, plural } from './dom.js';
import { me, say, guard, navigate, render, confirm } from './app.js';
import { roleOptions } from './roles.js';

export async function invitations(screen, params, { signal }) {
  const status = params.get('status') || '';
  const cursor = params.get('cursor') || '';
  const [page, roles] = await Promise.all([api.get(`/invitations${api.query({ status, cursor, limit: 50 })}`, { signal }),
    me.can('users:write') ? roleOptions({ signal }) : null]);
  const filter = select('status', [['', 'Any status'], ['pending', 'Pending'], ['accepted', 'Accepted'], ['expired', 'Expired'], ['revoked', 'Revoked']], status);
  filter.id = 'invitation-status';
  filter.addEventListener('change', () => navigate(`/console/invitations${api.query({ status: filter.value })}`));
  const rows = page.items.map((inv) => h('tr', {},
    h('td', {}, inv.email), h('td', {}, inv.role), h('td', {}, inv.status), h('td', {}, inv.mail_status),
    h('td', {}, when(inv.expires_at)),
    me.can('users:write') ? h('td', {}, inv.status === 'pending' || inv.status === 'expired' ? [
      action('Resend', inv, async () => {
        await api.send('POST', `/invitations/${encodeURIComponent(inv.id)}/resend`);
        return `A new link is on its way to ${inv.email}.`;
      }),
      action('Revoke', inv, async () => {
        if (!(await confirm('Revoke the invitation', `Revoke the invitation of ${inv.email}? Its link stops working.`, 'Revoke'))) return null;
        await api.send('DELETE', `/invitations/${encodeURIComponent(inv.id)}`);
        return `The invitation of ${inv.email} is revoked.`;
      })] : null) : null));
  const next = h('button', { type: 'button', id: 'invitations-next', disabled: !page.next_cursor }, 'Next page');
  next.addEventListener('click', () => navigate(`/console/invitations${api.query({ status, cursor: page.next_cursor })}`));
  const prev = h('button', { type: 'button', id: 'invitations-prev', disabled: !cursor }, 'Previous page');
  prev.addEventListener('click', () => history.back());
  draw(screen, 
    h('h1', {}, 'Invitations'),
    me.can('users:write') ? inviteForms(roles) : null,
    h('h2', {}, 'Sent invitations'),
    h('div', { class: 'field' }, h('label', { for: filter.id }, 'Status'), filter),
    rows.length ? h('table', { id: 'invitations' },
      h('thead', {}, h('tr', {}, ['Email', 'Role', 'Status', 'Mail', 'Expires', me.can('users:write') ? 'Actions' : null].filter(Boolean).map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)) : h('p', {}, 'No invitations.'),
    h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, next));
}

function action(label, inv, fn) {
  return h('button', { type: 'button', 'aria-label': `${label} the invitation of ${inv.email}`, onclick: guard(async () => {
    const done = await fn();
    if (done === null) return;
    await render();
    say(done);
  }) }, label);
}

function inviteForms(roles) {
  const email = h('input', { name: 'email', id: 'invite-email', type: 'email', autocomplete: 'off', required: true });
  const role = select('role', roles, 'viewer');
  role.id = 'invite-role';
  const one = h('form', { id: 'invite-form' }, field('Email', email), field('Role', role),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'invite-submit' }, 'Invite')));
  one.addEventListener('submit', guard(async () => {
    try {
      await api.send('POST', '/invitations', { email: email.value.trim(), role: role.value });
    } catch (err) {
      showFieldErrors(one, err.fields);
      throw err;
    }
    const who = email.value.trim();
    await render();
    say(`${who} is invited.`);
  }));

  const file = h('input', { type: 'file', name: 'file', id: 'csv-file', accept: '.csv,text/csv', required: true });
  const results = h('div', { id: 'csv-results', 'aria-live': 'polite' });
  const csv = h('form', { id: 'csv-form' },
    field('CSV file', file, 'A header row email,role, then one person a row.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'csv-submit' }, 'Upload and invite')), results);
  csv.addEventListener('submit', guard(async () => {
    clearFieldErrors(csv);
    if (!file.files.length) throw new Error('Choose a CSV file first.');
    const text = await file.files[0].text();
    let r;
    try {
      r = await api.send('POST', '/invitations/bulk', text, { contentType: 'text/csv' });
    } catch (err) {
      showFieldErrors(csv, (err.fields || []).map((f) => ({ field: 'file', message: `${f.field}: ${f.message}` })));
      throw err;
    }
    results.replaceChildren(
      h('p', {}, `${plural(r.created, 'invitation', 'invitations')} sent; ${plural(r.failed.length, 'row', 'rows')} refused.`),
      r.failed.length ? h('table', { id: 'csv-failures' },
        h('thead', {}, h('tr', {}, ['Row', 'Email', 'Why'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, r.failed.map((f) => h('tr', {}, h('td', {}, String(f.row)), h('td', {}, f.email), h('td', {}, f.error))))) : null);
    say(`The file is processed: ${r.created} invited, ${r.failed.length} refused.`, r.failed.length ? 'error' : '');
  }));
  return h('div', { class: 'two' },
    h('section', { 'aria-labelledby': 'h-invite' }, h('h2', { id: 'h-invite' }, 'Invite someone'), one),
    h('section', { 'aria-labelledby': 'h-csv' }, h('h2', { id: 'h-csv' }, 'Invite from a CSV file'), csv));
}
