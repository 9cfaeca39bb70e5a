// Small helpers to build the page. Text is always set as text, never as
// HTML, so a name with markup in it stays a name.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// draw replaces what el shows with children, as h takes them: arrays are
// flattened, and null, undefined and false are left out.
export function draw(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// guarded makes event handlers that keep the button that started them
// disabled while they run (so a second click does not send twice) and
// tell report what went wrong, if anything. The console and the account
// page each report in their own way.
export function guarded(report) {
  return (fn) => async (event) => {
    let button = null;
    if (event) {
      event.preventDefault();
      button = event.submitter || (event.currentTarget instanceof HTMLButtonElement ? event.currentTarget : null);
    }
    if (button) button.disabled = true;
    try {
      await fn(event);
    } catch (err) {
      if (err.name !== 'AbortError') report(err.message || String(err));
    } finally {
      if (button) button.disabled = false;
    }
  };
}

// field is a labelled control with a place for its error below it.
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2)}`;
  control.id = id;
  const error = h('span', { class: 'field-error', id: `${id}-error` });
  control.setAttribute('aria-describedby', `${id}-error`);
  return h('div', { class: 'field', dataset: { field: control.name || '' } },
    h('label', { for: id }, label), control, hint ? h('small', { class: 'hint' }, hint) : null, error);
}

// showFieldErrors puts each of the API's field errors next to the control
// of that name inside form; it returns the errors no control took.
export function showFieldErrors(form, errors) {
  clearFieldErrors(form);
  const rest = [];
  let first = null;
  for (const e of errors || []) {
    const control = form.querySelector(`[name="${CSS.escape(e.field)}"]`);
    if (!control) {
      rest.push(e);
      continue;
    }
    control.setAttribute('aria-invalid', 'true');
    const slot = document.getElementById(`${control.id}-error`);
    if (slot) slot.textContent = `${e.message}`;
    first = first || control;
  }
  if (first) first.focus();
  return rest;
}

export function clearFieldErrors(form) {
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  for (const s of form.querySelectorAll('.field-error')) s.textContent = '';
}

// select keeps a value its options lack (a custom role, say) as an option
// of its own, so that saving a form does not silently change it.
export function select(name, options, value) {
  const all = value && !options.some(([v]) => v === value) ? [...options, [value, value]] : options;
  return h('select', { name },
    all.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

export function when(t) {
  return t ? new Date(t).toLocaleString() : 'never';
}

export function number(n) {
  return Number(n).toLocaleString('en');
}

export function plural(n, one, many) {
  return `${number(n)} ${n === 1 ? one : many}`;
}

// link is an anchor the app's router follows without reloading.
export function link(href, ...children) {
  return h('a', { href, dataset: { nav: '' } }, ...children);
}
