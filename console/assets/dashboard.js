// The dashboard: every figure of GET /api/v1/stats, each linking to the
// directory filtered to exactly those users where the list has the filter.
import * as api from './api.js';
import { h, draw, link, number, plural } from './dom.js';
import { columns, bars } from './chart.js';

const methodNames = { totp: 'Authenticator app', sms: 'Text message', email: 'Email', passkey: 'Passkey' };

function figure(id, value, label, href) {
  const big = h('span', { class: 'figure-value' }, number(value));
  return h('li', { class: 'figure', id },
    href ? link(href, big, h('span', { class: 'figure-label' }, label)) : [big, h('span', { class: 'figure-label' }, label)]);
}

export async function dashboard(screen, params, { signal }) {
  const [st, active] = await Promise.all([api.get('/stats', { signal }), api.get('/stats?active=true', { signal })]);
  const u = '/console/users';
  const daily = st.recent_signups.daily.map((d) => ({ label: d.date, value: d.count }));
  const methods = Object.entries(st.mfa.methods).map(([m, n]) => ({ key: m, label: methodNames[m] || m, value: n }));
  draw(screen, 
    h('h1', {}, 'Dashboard'),
    h('section', { 'aria-labelledby': 'h-users' },
      h('h2', { id: 'h-users' }, 'Users'),
      h('ul', { class: 'figures' },
        figure('dash-total', st.total_users, 'users in all', u),
        figure('dash-active', st.active_users, 'active', `${u}?active=true`),
        figure('dash-inactive', st.inactive_users, 'deactivated', `${u}?active=false`),
        ...Object.entries(st.roles).map(([role, n]) => figure(`dash-role-${role}`, n, `${role}s`, `${u}?role=${role}`)),
        figure('dash-invitations', st.pending_invitations, 'pending invitations', '/console/invitations?status=pending'),
        figure('dash-locked', st.locked_users, 'locked out now'),
        figure('dash-pending-approval', st.pending_approval, 'waiting for approval', `${u}?pending_approval=true`))),
    h('section', { 'aria-labelledby': 'h-mfa' },
      h('h2', { id: 'h-mfa' }, 'Second factors'),
      h('p', { class: 'lead' },
        link(`${u}?mfa=disabled`, h('span', { id: 'dash-mfa-disabled' }, `${number(st.mfa.disabled)} of ${number(st.total_users)}`), ' users without a second factor'),
        ` · adoption ${(st.mfa.adoption_rate * 100).toFixed(1)} %`),
      h('ul', { class: 'figures' },
        figure('dash-mfa-enabled', st.mfa.enabled, 'with a second factor', `${u}?mfa=enabled`),
        figure('dash-mfa-active-disabled', active.mfa.disabled, 'active without a second factor', `${u}?mfa=disabled&active=true`)),
      h('h3', {}, 'Methods in use'),
      bars(methods, { label: `Users by second factor: ${methods.map((m) => `${m.label} ${m.value}`).join(', ')}` }),
      h('ul', { class: 'inline' }, methods.map((m) => h('li', {}, link(`${u}?mfa_method=${m.key}`, `${m.label}: ${number(m.value)}`)))),
      h('h3', {}, 'Passkeys'),
      h('ul', { class: 'figures' },
        figure('dash-passkeys', st.passkeys.total, 'passkeys', `${u}?mfa_method=passkey`),
        figure('dash-passkeys-synced', st.passkeys.synced, 'synced'),
        figure('dash-passkeys-device', st.passkeys.device_bound, 'device-bound'))),
    h('section', { 'aria-labelledby': 'h-signups' },
      h('h2', { id: 'h-signups' }, 'Sign-ups'),
      h('p', {}, link(`${u}?sort=-created_at`, `${plural(st.recent_signups.last_30_days, 'user', 'users')} joined in the last 30 days`),
        `, ${number(st.recent_signups.last_7_days)} in the last 7.`),
      columns(daily, { label: `Sign-ups a day over the last 30 days, ${st.recent_signups.last_30_days} in all` })),
  );
}
