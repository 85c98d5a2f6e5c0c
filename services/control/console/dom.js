// DOM helpers. Everything shown is built with createElement and text nodes: data from the API
// is never parsed as HTML, so a payload containing <script> is shown as text.
const SVG = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

export function fmtTime(t) {
  if (!t) return '—';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function pretty(v) {
  return JSON.stringify(v, null, 2);
}

export function badge(status) {
  return h('span', { class: `badge st-${String(status).replace(/[^a-z_]/g, '')}` }, String(status).replace(/_/g, ' '));
}

// A labelled form control; `control` is an input/select/textarea element.
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2)}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('small', {}, hint) : null);
}

export function message(kind, text) {
  return h('p', { class: `msg ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

// Bar chart of per-minute counts: `ok` upwards in one colour, `bad` stacked above in another.
export function chart(ok, bad, label) {
  const n = ok.length;
  const max = Math.max(1, ...ok.map((v, i) => v + (bad[i] || 0)));
  const w = 240;
  const hgt = 40;
  const bw = w / Math.max(n, 1);
  const bars = [];
  ok.forEach((v, i) => {
    const b = bad[i] || 0;
    const hOk = (v / max) * hgt;
    const hBad = (b / max) * hgt;
    if (v) bars.push(s('rect', { x: i * bw, y: hgt - hOk, width: Math.max(bw - 0.5, 0.5), height: hOk, class: 'ok' }));
    if (b) bars.push(s('rect', { x: i * bw, y: hgt - hOk - hBad, width: Math.max(bw - 0.5, 0.5), height: hBad, class: 'bad' }));
  });
  return s('svg', { viewBox: `0 0 ${w} ${hgt}`, preserveAspectRatio: 'none', class: 'chart', role: 'img', 'aria-label': label },
    s('title', {}, label), s('line', { x1: 0, y1: hgt, x2: w, y2: hgt, class: 'axis' }), bars);
}

export const sum = (xs) => xs.reduce((a, b) => a + b, 0);
