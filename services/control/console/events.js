// Events: the index with filters and search, refreshed while open; one event's envelope, payload
// and per-subscription attempt timeline with Retry now.
import { h, fmtTime, pretty, badge, field, message } from './dom.js';
import { api, get, enc, query, canWrite } from './api.js';

const STATUSES = ['', 'pending', 'delivered', 'retrying', 'dead_lettered', 'filtered'];

function toIso(local) {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

function fromIso(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function row(e) {
  return h('tr', {},
    h('td', {}, h('a', { href: `#/events/${enc(e.id)}`, class: 'mono' }, e.id)),
    h('td', {}, e.type),
    h('td', {}, e.source),
    h('td', {}, fmtTime(e.received_at)),
    h('td', { class: 'statuses' }, e.statuses && e.statuses.length
      ? e.statuses.map((d) => h('span', { class: 'status', 'data-subscription': d.subscription }, `${d.subscription} `, badge(d.status)))
      : h('span', { class: 'muted' }, 'no report yet')),
    h('td', { class: 'wrap' }, e.subject || ''));
}

export async function renderList(el, q, ctx) {
  const sources = (await get('/sources')).sources;
  const f = {
    source: h('select', { name: 'source' }, h('option', { value: '' }, 'any'), sources.map((s) => h('option', { value: s.name }, s.name))),
    type: h('input', { name: 'type', placeholder: 'github.push or github.*' }),
    status: h('select', { name: 'status' }, STATUSES.map((s) => h('option', { value: s }, s ? s.replace('_', ' ') : 'any'))),
    since: h('input', { name: 'since', type: 'datetime-local' }),
    until: h('input', { name: 'until', type: 'datetime-local' }),
    q: h('input', { name: 'q', type: 'search', placeholder: 'event id or text in the payload' }),
  };
  f.source.value = q.get('source') || '';
  f.type.value = q.get('type') || '';
  f.status.value = q.get('status') || '';
  f.since.value = fromIso(q.get('since'));
  f.until.value = fromIso(q.get('until'));
  f.q.value = q.get('q') || '';
  const params = () => ({
    source: f.source.value, type: f.type.value.trim(), status: f.status.value,
    since: toIso(f.since.value), until: toIso(f.until.value), q: f.q.value.trim(),
  });
  const form = h('form', { class: 'filters', 'aria-label': 'Filter events', onsubmit: async (e) => {
    e.preventDefault();
    const p = params();
    // An exact event id opens that event; anything else searches the payloads.
    if (p.q) {
      try {
        await get(`/events/${enc(p.q)}`);
        location.hash = `#/events/${enc(p.q)}`;
        return;
      } catch { /* not an id: search */ }
    }
    location.hash = `#/events${query(p)}`;
  } },
  field('Source', f.source), field('Type', f.type), field('Status', f.status),
  field('Since', f.since), field('Until', f.until), field('Search', f.q),
  h('button', { type: 'submit' }, 'Apply'));

  const auto = h('input', { type: 'checkbox', id: 'auto-refresh', checked: true });
  const tbody = h('tbody', { id: 'events-body' });
  const status = h('p', { class: 'muted', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', hidden: true }, 'Older events');
  let cursor = null;
  let shown = '';
  const load = async ({ append = false, poll = false } = {}) => {
    const page = await get(`/events${query({ ...params(), cursor: append ? cursor : undefined })}`, { poll });
    const key = JSON.stringify(page.events.map((e) => [e.id, e.statuses]));
    if (!append && poll && key === shown) return;
    if (!append) { tbody.replaceChildren(); shown = key; }
    page.events.forEach((e) => tbody.append(row(e)));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    status.textContent = tbody.children.length ? `${tbody.children.length} event(s)` : 'No events match.';
  };
  more.addEventListener('click', () => load({ append: true }));
  el.replaceChildren(
    h('h1', {}, 'Events'), form,
    h('div', { class: 'toolbar' }, h('label', { for: 'auto-refresh' }, auto, ' Refresh every 3 s'), status),
    h('div', { class: 'scroll' }, h('table', { class: 'grid', id: 'events' },
      h('thead', {}, h('tr', {}, ['Id', 'Type', 'Source', 'Received', 'Deliveries', 'Subject'].map((c) => h('th', { scope: 'col' }, c)))),
      tbody)),
    more);
  await load();
  ctx.every(3000, () => { if (auto.checked && !cursorShownBeyondFirst()) load({ poll: true }).catch(() => {}); });
  // Refreshing would drop the older pages the user asked for.
  function cursorShownBeyondFirst() { return tbody.children.length > 50; }
}

function attempt(a) {
  return h('li', { class: `attempt out-${a.outcome}` },
    h('div', { class: 'line' },
      h('strong', {}, `#${a.attempt}`), ' ', fmtTime(a.at), ' · ',
      h('span', { class: 'code' }, a.status ? `HTTP ${a.status}` : 'no response'), ' · ',
      `${a.latency_ms} ms`, ' · ', a.outcome.replace(/_/g, ' '), ' → ', a.decision.replace(/_/g, ' '),
      ` · v${a.version}`),
    a.error ? h('div', { class: 'err' }, a.error) : null,
    a.response ? h('details', {}, h('summary', {}, 'Response'), h('pre', {}, a.response)) : null);
}

function delivery(d, eventId, refresh) {
  const box = h('section', { class: 'delivery', 'data-subscription': d.subscription });
  const note = h('div', { 'aria-live': 'polite' });
  const retry = canWrite() && d.status !== 'filtered'
    ? h('button', { type: 'button', class: 'retry', onclick: async () => {
      note.replaceChildren();
      try {
        await api('POST', `/subscriptions/${enc(d.subscription)}/events/${enc(eventId)}/retry`);
        note.append(message('ok', 'Queued for delivery now.'));
        setTimeout(refresh, 500);
      } catch (err) { note.append(message('error', err.message)); }
    } }, 'Retry now')
    : null;
  box.append(
    h('h3', {}, h('a', { href: `#/subscriptions/${enc(d.subscription)}` }, d.subscription), ' ', badge(d.status)),
    h('p', { class: 'muted' },
      d.version ? `version ${d.version}` : 'no report yet',
      d.reason ? ` · gave up: ${d.reason.replace(/_/g, ' ')}` : '',
      d.next_attempt_at ? ` · next retry ${fmtTime(d.next_attempt_at)}` : ''),
    // append() would print a null as the text "null".
    ...[retry, note].filter(Boolean),
    d.attempts.length ? h('ol', { class: 'timeline' }, d.attempts.map(attempt)) : h('p', { class: 'muted' }, 'No attempts yet.'));
  return box;
}

// The index lags ingress by a moment: a just-accepted id is looked up again for a few seconds.
async function fetchEvent(el, id, ctx) {
  for (let i = 0; ; i += 1) {
    try {
      return await get(`/events/${enc(id)}`);
    } catch (err) {
      if (err.status !== 404 || i >= 10 || !ctx.alive()) throw err;
      el.replaceChildren(message('status', `Event ${id} is not in the index yet; looking again…`));
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export async function renderOne(el, id, _q, ctx) {
  let ev = await fetchEvent(el, id, ctx);
  const deliveries = h('div', { id: 'deliveries' });
  let shown = '';
  const draw = () => {
    const key = JSON.stringify(ev.deliveries);
    if (key === shown) return;
    shown = key;
    deliveries.replaceChildren(...(ev.deliveries.length
      ? ev.deliveries.map((d) => delivery(d, ev.id, refresh))
      : [h('p', { class: 'muted' }, 'No subscription takes this event.')]));
  };
  async function refresh(poll = false) {
    try { ev = await get(`/events/${enc(id)}`, { poll }); draw(); } catch { /* keep what is shown */ }
  }
  const payload = ev.payload !== null && ev.payload !== undefined ? pretty(ev.payload) : (ev.payload_base64 || '');
  el.replaceChildren(
    h('p', {}, h('a', { href: '#/events' }, '← Events')),
    h('h1', { class: 'mono wrap' }, ev.id),
    h('dl', { class: 'facts' }),
    h('h2', {}, 'Deliveries'), deliveries,
    h('h2', {}, 'Payload'), h('pre', { id: 'payload', class: 'json' }, payload),
    h('details', {}, h('summary', {}, 'Envelope (CloudEvent)'), h('pre', { id: 'envelope', class: 'json' }, pretty(ev.envelope))));
  const dl = el.querySelector('dl.facts');
  for (const [k, v] of [['Type', ev.type], ['Source', ev.source], ['Subject', ev.subject || '—'], ['Time', fmtTime(ev.time)],
    ['Received', fmtTime(ev.received_at)], ['Topic', `${ev.topic} [${ev.partition}] @ ${ev.offset}`]]) {
    dl.append(h('dt', {}, k), h('dd', {}, v));
  }
  draw();
  ctx.every(2000, () => refresh(true));
}
