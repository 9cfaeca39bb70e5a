// The audit log: filter by action, actor and target, paged by cursor, with
// the filters and the page in the address.
import * as api from './api.js';
import { h, draw, field } from './dom.js';
import { navigate } from './app.js';
import { eventsTable } from './user.js';

const keys = ['action', 'actor_id', 'target_id'];

export async function auditLog(screen, params, { signal }) {
  const f = {};
  for (const k of keys) if (params.get(k)) f[k] = params.get(k);
  const cursor = params.get('cursor') || '';
  const page = await api.get(`/audit-events${api.query({ ...f, cursor, limit: 50 })}`, { signal });
  const input = (name) => h('input', { name, id: `audit-${name}`, value: f[name] || '' });
  const form = h('form', { class: 'filters', id: 'audit-filters' },
    field('Action', input('action'), 'e.g. users.bulk_action'), field('Actor id', input('actor_id')), field('Target id', input('target_id')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Filter')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = {};
    for (const k of keys) next[k] = form.elements[k].value.trim();
    navigate(`/console/audit${api.query(next)}`);
  });
  const prev = h('button', { type: 'button', id: 'audit-prev', disabled: !cursor }, 'Previous page');
  prev.addEventListener('click', () => history.back());
  const next = h('button', { type: 'button', id: 'audit-next', disabled: !page.next_cursor }, 'Next page');
  next.addEventListener('click', () => navigate(`/console/audit${api.query({ ...f, cursor: page.next_cursor })}`));
  draw(screen, h('h1', {}, 'Audit log'), form, eventsTable(page.items),
    h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, next));
}
