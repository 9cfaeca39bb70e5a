// The tenant's roles, built-in and custom, from GET /api/v1/roles: what
// every role picker and the directory's role filter offer.
import * as api from './api.js';

const builtInLabels = { admin: 'Admin', developer: 'Developer', viewer: 'Viewer' };

// roleOptions answers a picker's [value, label] pairs: the built-in roles,
// then the tenant's own by name, as the API lists them. A role beyond the
// signed-in person's own permissions is listed too; the API refuses to
// give it, and says why.
export async function roleOptions({ signal } = {}) {
  const { items } = await api.get('/roles', { signal });
  return items.map((r) => [r.name, r.built_in ? builtInLabels[r.name] || r.name : r.name]);
}
