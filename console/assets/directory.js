// The directory: /console/users with the users list's own keys in the
// address (q, role, active, mfa, mfa_method, pending_approval, sort, and the
// page's cursor),
// the number of matching users, and bulk actions for those who may change
// users.
import * as api from './api.js';
import { h, draw, link, number, plural, select, when } from './dom.js';
import { me, say, guard, confirm, navigate } from './app.js';
import { roleOptions } from './roles.js';

const filterKeys = ['q', 'role', 'active', 'mfa', 'mfa_method', 'pending_approval'];
const debounceMs = 300;

const actions = {
  remind_mfa: { label: 'Remind to set up a second factor', verb: 'Send a reminder to set up a second factor to' },
  deactivate: { label: 'Deactivate', verb: 'Deactivate' },
  activate: { label: 'Activate', verb: 'Activate' },
  set_role: { label: 'Set role', verb: 'Change the role of' },
  reset_mfa: { label: 'Reset second factors', verb: 'Remove every second factor of' },
  delete: { label: 'Delete', verb: 'Delete for good' },
};

function filtersOf(params) {
  const f = {};
  for (const k of filterKeys) if (params.get(k)) f[k] = params.get(k);
  return f;
}

// bulkFilter is the selection of the bulk request: the list's filters,
// typed as the bulk endpoint takes them.
function bulkFilter(f) {
  const out = { ...f };
  if (out.active !== undefined) out.active = out.active === 'true';
  if (out.pending_approval !== undefined) out.pending_approval = out.pending_approval === 'true';
  return out;
}

export async function directory(screen, params, { signal }) {
  const state = { filters: filtersOf(params), sort: params.get('sort') || '', cursor: params.get('cursor') || '' };
  const selected = new Set();
  let allMatching = false;
  let count = null; // {count, capped}
  let loading = null; // the AbortController of the list being loaded

  const roles = await roleOptions({ signal });
  const q = h('input', { type: 'search', name: 'q', id: 'filter-q', value: state.filters.q || '', autocomplete: 'off' });
  const role = select('role', [['', 'Any role'], ...roles], state.filters.role || '');
  const active = select('active', [['', 'Active or not'], ['true', 'Active'], ['false', 'Deactivated']], state.filters.active || '');
  const mfa = select('mfa', [['', 'With or without'], ['enabled', 'With a second factor'], ['disabled', 'Without a second factor']], state.filters.mfa || '');
  const method = select('mfa_method', [['', 'Any method'], ['totp', 'Authenticator app'], ['sms', 'Text message'], ['email', 'Email'], ['passkey', 'Passkey']], state.filters.mfa_method || '');
  const approval = select('pending_approval', [['', 'Approved or not'], ['true', 'Waiting for approval'], ['false', 'Approved']], state.filters.pending_approval || '');
  const sort = select('sort', [['', 'Oldest first'], ['-created_at', 'Newest first'], ['email', 'Email'], ['name', 'Name'], ['-last_login_at', 'Last sign-in']], state.sort);
  for (const [el, id] of [[role, 'filter-role'], [active, 'filter-active'], [mfa, 'filter-mfa'], [method, 'filter-mfa-method'], [approval, 'filter-pending-approval'], [sort, 'filter-sort']]) el.id = id;
  const labelled = (text, el) => h('div', { class: 'field' }, h('label', { for: el.id }, text), el);
  const form = h('form', { role: 'search', class: 'filters', id: 'filters' },
    labelled('Search', q), labelled('Role', role), labelled('Status', active), labelled('Second factor', mfa),
    labelled('Method', method), labelled('Approval', approval), labelled('Order', sort));

  const countLine = h('p', { id: 'count', 'aria-live': 'polite' }, 'Counting…');
  const tbody = h('tbody', {});
  const pageBox = h('input', { type: 'checkbox', id: 'select-page', 'aria-label': 'Select the users on this page' });
  const table = h('table', { class: 'users' },
    h('caption', { class: 'visually-hidden' }, 'Users matching the filters'),
    h('thead', {}, h('tr', {},
      me.can('users:write') ? h('th', { scope: 'col' }, pageBox) : null,
      h('th', { scope: 'col' }, 'Email'), h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Role'),
      h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Last sign-in'))),
    tbody);
  const previous = h('button', { type: 'button', id: 'page-prev', disabled: !state.cursor }, 'Previous page');
  const next = h('button', { type: 'button', id: 'page-next', disabled: true }, 'Next page');
  let nextCursor = null;

  // Bulk actions: only for those who may change users.
  const selection = h('p', { id: 'selection', 'aria-live': 'polite' });
  const selectAll = h('button', { type: 'button', id: 'select-all' }, 'Select all matching');
  const action = select('action', [['', 'Choose an action'], ...Object.entries(actions).map(([k, a]) => [k, a.label])], '');
  action.id = 'bulk-action';
  const newRole = select('role', roles, 'viewer');
  newRole.id = 'bulk-role';
  const roleField = labelled('New role', newRole);
  roleField.hidden = true;
  const apply = h('button', { type: 'submit', class: 'primary', id: 'bulk-apply' }, 'Apply…');
  const progress = h('div', { id: 'bulk-progress', 'aria-live': 'polite' });
  const bulkForm = h('form', { id: 'bulk', class: 'bulk', 'aria-label': 'Bulk action' },
    selection, selectAll, labelled('Action', action), roleField, apply, progress);
  action.addEventListener('change', () => { roleField.hidden = action.value !== 'set_role'; });

  draw(screen, h('h1', {}, 'Directory'), form, countLine, me.can('users:write') ? bulkForm : null, table,
    h('nav', { class: 'pager', 'aria-label': 'Pages' }, previous, next));

  function selectionSize() {
    if (allMatching) return count ? count.count : 0;
    return selected.size;
  }

  function describeSelection() {
    if (!me.can('users:write')) return;
    if (allMatching) {
      selection.textContent = count && count.capped
        ? `All matching users are selected (more than ${number(count.count)}).`
        : `All ${plural(count ? count.count : 0, 'matching user is', 'matching users are')} selected.`;
    } else {
      selection.textContent = selected.size ? `${plural(selected.size, 'user', 'users')} on this page selected.` : 'No users selected.';
    }
    selectAll.textContent = count ? (count.capped ? 'Select all matching' : `Select all ${number(count.count)} matching`) : 'Select all matching';
    selectAll.disabled = allMatching || !count || count.count === 0;
    apply.disabled = selectionSize() === 0;
  }

  function url(extra = {}) {
    const p = { ...state.filters, sort: state.sort, ...extra };
    return `/console/users${api.query(p)}`;
  }

  async function load() {
    if (loading) loading.abort();
    loading = new AbortController();
    const sig = AbortSignal.any([signal, loading.signal]);
    const f = state.filters;
    countLine.textContent = 'Counting…';
    document.body.dataset.listReady = 'false';
    try {
      const [page, n] = await Promise.all([
        api.get(`/users${api.query({ ...f, sort: state.sort, cursor: state.cursor, limit: 50 })}`, { signal: sig }),
        api.get(`/users/count${api.query(f)}`, { signal: sig }),
      ]);
      count = n;
      countLine.textContent = n.capped ? `More than ${number(n.count)} matching users` : `${plural(n.count, 'matching user', 'matching users')}`;
      nextCursor = page.next_cursor;
      next.disabled = !nextCursor;
      previous.disabled = !state.cursor;
      tbody.replaceChildren(...page.items.map(row));
      if (!page.items.length) tbody.append(h('tr', {}, h('td', { colspan: me.can('users:write') ? 6 : 5 }, 'No users match.')));
      pageBox.checked = false;
      describeSelection();
      document.body.dataset.listReady = 'true';
    } catch (err) {
      if (err.name === 'AbortError') return;
      countLine.textContent = '';
      say(err.message, 'error');
    }
  }

  function row(u) {
    const box = h('input', { type: 'checkbox', class: 'select-user', value: u.id, 'aria-label': `Select ${u.email}`, checked: selected.has(u.id) || allMatching, disabled: allMatching });
    box.addEventListener('change', () => {
      if (box.checked) selected.add(u.id);
      else selected.delete(u.id);
      describeSelection();
    });
    const name = [u.given_name, u.family_name].filter(Boolean).join(' ') || u.display_name;
    return h('tr', {},
      me.can('users:write') ? h('td', {}, box) : null,
      h('td', {}, link(`/console/users/${encodeURIComponent(u.id)}`, u.email)),
      h('td', {}, name),
      h('td', {}, u.role),
      h('td', {}, u.pending_approval ? 'waiting for approval' : u.active ? 'active' : 'deactivated'),
      h('td', {}, when(u.last_login_at)));
  }

  // A filter changed: a new address (typing replaces it, the rest make a
  // history entry), the first page, and no selection.
  function changed(replace) {
    state.filters = {};
    for (const [k, el] of [['q', q], ['role', role], ['active', active], ['mfa', mfa], ['mfa_method', method], ['pending_approval', approval]]) {
      const v = el.value.trim();
      if (v) state.filters[k] = v;
    }
    state.sort = sort.value;
    state.cursor = '';
    selected.clear();
    allMatching = false;
    if (replace) history.replaceState(null, '', url());
    else history.pushState(null, '', url());
    load();
  }

  let timer = null;
  q.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => changed(true), debounceMs);
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(timer); changed(false); });
  for (const el of [role, active, mfa, method, approval, sort]) el.addEventListener('change', () => changed(false));

  // Each page is an address of its own: Back (or Previous) returns to the
  // page before, as the cursor that led here is not reversible.
  next.addEventListener('click', () => {
    if (nextCursor) navigate(url({ cursor: nextCursor }));
  });
  previous.addEventListener('click', () => history.back());
  pageBox.addEventListener('change', () => {
    for (const box of tbody.querySelectorAll('.select-user')) {
      box.checked = pageBox.checked;
      if (pageBox.checked) selected.add(box.value);
      else selected.delete(box.value);
    }
    describeSelection();
  });
  selectAll.addEventListener('click', () => {
    allMatching = true;
    for (const box of tbody.querySelectorAll('.select-user')) { box.checked = true; box.disabled = true; }
    describeSelection();
  });

  bulkForm.addEventListener('submit', guard(async () => {
    const a = actions[action.value];
    if (!a) throw new Error('Choose an action first.');
    const n = selectionSize();
    const who = allMatching && count.capped ? `more than ${number(n)} users` : plural(n, 'user', 'users');
    const extra = action.value === 'set_role' ? ` to ${newRole.value}` : '';
    if (!(await confirm('Confirm the bulk action', `${a.verb} ${who}${extra}?`, `${a.label}: ${who}`))) return;
    const body = { action: action.value };
    if (action.value === 'set_role') body.role = newRole.value;
    if (allMatching) body.filter = bulkFilter(state.filters);
    else body.ids = [...selected];
    progress.textContent = 'Working…';
    const { status, data } = await api.call('POST', '/users/bulk', body);
    const result = status === 202 ? await followJob(data) : data;
    progress.replaceChildren(resultText(result));
    selected.clear();
    allMatching = false;
    action.value = '';
    await load();
  }));

  // followJob shows a job's progress until it ends, and answers its result.
  async function followJob(job) {
    document.body.dataset.job = job.id; // for a person reading the page's state, and the tests
    const bar = h('progress', { id: 'job-progress', max: 1, value: 0 });
    const text = h('span', {});
    progress.replaceChildren(h('label', { for: 'job-progress' }, 'Progress '), bar, ' ', text);
    for (;;) {
      const j = await api.get(`/jobs/${encodeURIComponent(job.id)}`, { signal });
      const total = j.progress.total || 0;
      bar.max = Math.max(total, 1);
      bar.value = j.progress.processed;
      text.textContent = `${number(j.progress.processed)} of ${total ? number(total) : '…'} users (${j.status})`;
      if (j.status === 'succeeded') return j.result;
      if (j.status === 'failed') throw new Error(`The job failed: ${j.error || 'no reason given'}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  function resultText(r) {
    const failures = (r.failed || []).slice(0, 20).map((f) => h('li', {}, `${f.id}: ${f.error}`));
    return h('div', { id: 'bulk-result' },
      h('p', {}, `Done: ${number(r.matched)} matched, ${number(r.succeeded)} succeeded, ${number(r.skipped)} skipped, ${number(r.failed_count)} failed.`),
      failures.length ? h('ul', {}, failures) : null);
  }

  describeSelection();
  await load();
}
