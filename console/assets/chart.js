// Bar charts drawn as SVG by hand: a few dozen lines instead of a library.
// Each chart is an image with a text alternative; the figures it shows are
// also written out as text beside it.

const svgNS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

// columns draws one column per {label, value}, left to right.
export function columns(points, { label, width = 600, height = 160 } = {}) {
  const max = Math.max(1, ...points.map((p) => p.value));
  const gap = 2;
  const bar = Math.max(1, (width - gap * points.length) / Math.max(1, points.length));
  const root = svg('svg', { viewBox: `0 0 ${width} ${height + 20}`, role: 'img', 'aria-label': label, class: 'chart columns' });
  points.forEach((p, i) => {
    const hgt = Math.round((p.value / max) * height);
    const rect = svg('rect', { x: i * (bar + gap), y: height - hgt, width: bar, height: Math.max(hgt, p.value ? 1 : 0), class: 'bar' });
    rect.append(svg('title', {}, `${p.label}: ${p.value}`));
    root.append(rect);
  });
  root.append(svg('line', { x1: 0, y1: height + 0.5, x2: width, y2: height + 0.5, class: 'axis' }));
  if (points.length) {
    root.append(svg('text', { x: 0, y: height + 16, class: 'tick' }, points[0].label));
    root.append(svg('text', { x: width, y: height + 16, class: 'tick', 'text-anchor': 'end' }, points[points.length - 1].label));
  }
  return root;
}

// bars draws one horizontal bar per {label, value}, top to bottom.
export function bars(points, { label, width = 400 } = {}) {
  const max = Math.max(1, ...points.map((p) => p.value));
  const row = 26;
  const labelWidth = 130;
  const root = svg('svg', { viewBox: `0 0 ${width} ${row * points.length}`, role: 'img', 'aria-label': label, class: 'chart bars' });
  points.forEach((p, i) => {
    const w = Math.round((p.value / max) * (width - labelWidth - 50));
    root.append(svg('text', { x: 0, y: i * row + 17, class: 'tick' }, p.label));
    const rect = svg('rect', { x: labelWidth, y: i * row + 4, width: Math.max(w, p.value ? 1 : 0), height: row - 8, class: 'bar' });
    rect.append(svg('title', {}, `${p.label}: ${p.value}`));
    root.append(rect);
    root.append(svg('text', { x: labelWidth + w + 6, y: i * row + 17, class: 'tick' }, String(p.value)));
  });
  return root;
}
