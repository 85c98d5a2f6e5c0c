// Subscriptions: the list with pause/resume/delete; the create/edit form with a jq editor that
// shows compile errors as you type (POST /mapping/check, debounced) and a Try it panel
// (POST /mapping/test on the topic's last 10 events or a pasted event). The destination,
// authentication and output settings are in delivery.js.
import { h, badge, field, message, pretty } from './dom.js';
import { api, get, enc, canWrite } from './api.js';
import { deliveryForm, settingsFacts } from './delivery.js';

async function act(method, path, note, done) {
  note.replaceChildren();
  try {
    await api(method, path);
    await done();
  } catch (err) { note.replaceChildren(message('error', err.message)); }
}

export async function renderList(el) {
  const note = h('div', { 'aria-live': 'polite' });
  const tbody = h('tbody');
  const draw = async () => {
    const list = (await get('/subscriptions')).subscriptions;
    tbody.replaceChildren(...list.map((s) => {
      const api_ = s.managed === 'api';
      const write = canWrite() && api_;
      const name = enc(s.name);
      return h('tr', { 'data-name': s.name },
        h('td', {}, h('a', { href: `#/subscriptions/${name}` }, s.name)),
        h('td', {}, s.paused ? badge('paused') : badge('active')),
        h('td', {}, s.topic),
        h('td', { class: 'wrap' }, s.event_types.length ? s.event_types.join(', ') : 'all'),
        h('td', { class: 'wrap mono' }, s.destination ? `topic ${s.destination.topic}` : s.target),
        h('td', {}, api_ ? `API · v${s.version}` : 'config file'),
        h('td', { class: 'actions' }, write ? [
          s.paused
            ? h('button', { type: 'button', onclick: () => act('POST', `/subscriptions/${name}/resume`, note, draw) }, 'Resume')
            : h('button', { type: 'button', onclick: () => act('POST', `/subscriptions/${name}/pause`, note, draw) }, 'Pause'),
          h('button', { type: 'button', class: 'danger', onclick: () => {
            if (window.confirm(`Delete subscription ${s.name}? Its undelivered events are dropped.`)) act('DELETE', `/subscriptions/${name}`, note, draw);
          } }, 'Delete'),
        ] : null));
    }));
    if (!list.length) tbody.append(h('tr', {}, h('td', { colspan: 7 }, 'No subscriptions yet.')));
  };
  el.replaceChildren(
    h('h1', {}, 'Subscriptions'),
    canWrite() ? h('p', {}, h('a', { href: '#/subscriptions/new', class: 'button', id: 'new-subscription' }, 'New subscription')) : null,
    note,
    h('div', { class: 'scroll' }, h('table', { class: 'grid', id: 'subscriptions' },
      h('thead', {}, h('tr', {}, ['Name', 'State', 'Topic', 'Event types', 'Delivers to', 'Managed', ''].map((c) => h('th', { scope: 'col' }, c)))),
      tbody)));
  await draw();
}

function debounce(fn, ms) {
  let t = null;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

const lines = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);
const list = (text) => text.split(',').map((l) => l.trim()).filter(Boolean);

function parseHeaders(text) {
  const out = {};
  for (const l of lines(text)) {
    const i = l.indexOf(':');
    if (i > 0) out[l.slice(0, i).trim()] = l.slice(i + 1).trim();
  }
  return out;
}

function problemText(p) {
  return p.line ? `${p.field}: line ${p.line}, column ${p.column}: ${p.message.replace(/^does not compile: line \d+, column \d+: /, '')}` : `${p.field}: ${p.message}`;
}

export async function renderForm(el, name, ctx) {
  const existing = name ? await get(`/subscriptions/${enc(name)}`) : null;
  const sources = (await get('/sources')).sources;
  const readOnly = !canWrite() || (existing && existing.managed !== 'api');
  const v = existing || { topic: sources[0] ? sources[0].topic : '', event_types: [], headers: {}, retry: {}, concurrency: 10, ordered: false };
  const i = {
    name: h('input', { name: 'name', required: true, pattern: '[A-Za-z0-9._-]{1,100}', value: existing ? existing.name : '', disabled: Boolean(existing) }),
    topic: h('input', { name: 'topic', required: true, list: 'topics', value: v.topic }),
    event_types: h('input', { name: 'event_types', value: (v.event_types || []).join(', '), placeholder: 'github.push, github.* (empty: all)' }),
    target: h('input', { name: 'target', type: 'url', required: true, value: v.target || '', placeholder: 'https://crm.example.com/hooks' }),
    filter: h('textarea', { name: 'filter', rows: 3, spellcheck: 'false', class: 'code' }),
    transform: h('textarea', { name: 'transform', rows: 6, spellcheck: 'false', class: 'code' }),
    headers: h('textarea', { name: 'headers', rows: 2, spellcheck: 'false', placeholder: 'X-Team: crm' }),
    signing_secret: h('input', { name: 'signing_secret', type: 'password', autocomplete: 'off', placeholder: existing && existing.signing_secret ? `${existing.signing_secret} (leave empty to keep)` : 'whsec_… (optional)' }),
    schedule: h('input', { name: 'schedule', value: ((v.retry && v.retry.schedule) || []).join(', '), placeholder: '0s, 5s, 5m, 30m, 2h (empty: default)' }),
    timeout_ms: h('input', { name: 'timeout_ms', type: 'number', min: 1, value: v.timeout_ms || '' }),
    concurrency: h('input', { name: 'concurrency', type: 'number', min: 1, value: v.concurrency || '' }),
    rate_limit_per_sec: h('input', { name: 'rate_limit_per_sec', type: 'number', min: 1, value: v.rate_limit_per_sec || '' }),
    ordered: h('input', { name: 'ordered', type: 'checkbox', checked: v.ordered }),
  };
  i.filter.value = v.filter || '';
  i.transform.value = v.transform || '';
  i.headers.value = Object.entries(v.headers || {}).map(([k, x]) => `${k}: ${x}`).join('\n');
  const delivery = deliveryForm(existing, { target: i.target, signing: i.signing_secret });
  if (readOnly) [...Object.values(i), ...delivery.controls].forEach((c) => { c.disabled = true; });
  const jqErr = { filter: h('div', { class: 'jq-error', id: 'filter-error', 'aria-live': 'polite' }), transform: h('div', { class: 'jq-error', id: 'transform-error', 'aria-live': 'polite' }) };
  i.filter.setAttribute('aria-describedby', 'filter-error');
  i.transform.setAttribute('aria-describedby', 'transform-error');
  const check = debounce(async () => {
    try {
      const r = await api('POST', '/mapping/check', { filter: i.filter.value.trim() || null, transform: i.transform.value.trim() || null });
      for (const f of ['filter', 'transform']) {
        const p = r.problems.find((x) => x.field === f);
        jqErr[f].replaceChildren(p ? message('error', problemText(p)) : '');
        i[f].classList.toggle('invalid', Boolean(p));
      }
    } catch { /* the save shows errors too */ }
  }, 300);
  i.filter.addEventListener('input', check);
  i.transform.addEventListener('input', check);

  const note = h('div', { 'aria-live': 'polite', id: 'form-note' });
  const body = () => {
    const b = {
      ...delivery.values(),
      topic: i.topic.value.trim(), event_types: list(i.event_types.value),
      filter: i.filter.value.trim() || null, transform: i.transform.value.trim() || null,
      headers: parseHeaders(i.headers.value), ordered: i.ordered.checked,
      concurrency: i.concurrency.value ? Number(i.concurrency.value) : null,
      timeout_ms: i.timeout_ms.value ? Number(i.timeout_ms.value) : null,
      rate_limit_per_sec: i.rate_limit_per_sec.value ? Number(i.rate_limit_per_sec.value) : null,
    };
    const sched = list(i.schedule.value);
    if (sched.length) b.retry = { schedule: sched };
    if (i.signing_secret.value) b.signing_secret = i.signing_secret.value;
    return b;
  };
  const form = h('form', { class: 'sub-form', id: 'subscription-form', onsubmit: async (e) => {
    e.preventDefault();
    note.replaceChildren();
    try {
      let saved;
      if (existing) {
        const b = body();
        for (const k of ['concurrency', 'timeout_ms']) if (b[k] === null) delete b[k];
        saved = await api('PATCH', `/subscriptions/${enc(existing.name)}`, b);
      } else {
        const b = body();
        for (const k of ['concurrency', 'timeout_ms', 'rate_limit_per_sec', 'filter', 'transform', 'max_outputs']) if (b[k] === null) delete b[k];
        saved = await api('POST', '/subscriptions', { name: i.name.value.trim(), ...b });
      }
      location.hash = `#/subscriptions/${enc(saved.name)}`;
      if (existing) { await renderForm(el, saved.name, ctx); el.querySelector('#form-note').replaceChildren(message('ok', `Saved: version ${saved.version}.`)); }
    } catch (err) {
      // An API refusal names each field in its details; a form error (e.g. a schema that is not JSON) has none.
      const details = err.details || [];
      note.replaceChildren(message('error', err.message),
        details.length ? h('ul', { class: 'problems' }, details.map((p) => h('li', {}, problemText(p)))) : '');
    }
  } },
  h('datalist', { id: 'topics' }, sources.map((s) => h('option', { value: s.topic }))),
  h('div', { class: 'cols' },
    h('div', {},
      field('Name', i.name), field('Topic', i.topic), field('Event types', i.event_types, 'Comma-separated; a trailing * matches a prefix.'),
      field('Headers', i.headers, 'One "Name: value" per line; values may use {{ jq }} and {{ secret("map"; .key) }}.'),
      field('Retry schedule', i.schedule, 'Delays before each attempt, comma-separated.'),
      h('div', { class: 'row3' }, field('Timeout (ms)', i.timeout_ms), field('Concurrency', i.concurrency), field('Rate limit (/s)', i.rate_limit_per_sec)),
      h('div', { class: 'check' }, i.ordered, h('label', { for: (i.ordered.id = 'f-ordered') }, ' Ordered per partition key'))),
    h('div', {},
      field('Filter (jq)', i.filter, 'Delivered when the first output is truthy, e.g. .data.action == "opened"'), jqErr.filter,
      field('Transform (jq)', i.transform, 'The request body, from the CloudEvent, e.g. {email: .data.email}'), jqErr.transform)),
  delivery.groups,
  readOnly ? h('p', { class: 'muted' }, existing && existing.managed !== 'api' ? 'From the config file: change it there.' : 'Read-only session.') : h('button', { type: 'submit', id: 'save' }, existing ? 'Save changes' : 'Create subscription'),
  note);

  el.replaceChildren(
    h('p', {}, h('a', { href: '#/subscriptions' }, '← Subscriptions')),
    h('h1', {}, existing ? `Subscription ${existing.name}` : 'New subscription'),
    existing ? h('p', { class: 'muted' }, existing.paused ? badge('paused') : badge('active'), ` version ${existing.version} · ${existing.managed === 'api' ? 'managed by the API' : 'from the config file'}`) : null,
    existing ? settingsFacts(existing) : null,
    form, tryIt(i), existing ? await statsBox(existing.name) : null);
  if (i.filter.value || i.transform.value) check();
}

async function statsBox(name) {
  try {
    const st = await get(`/subscriptions/${enc(name)}/stats`);
    return h('section', { class: 'stats' }, h('h2', {}, 'Delivery'), h('dl', { class: 'facts' },
      [['Delivered', st.delivered], ['Failed attempts', st.failed], ['Retrying', st.retrying], ['Dead-lettered', st.dead_lettered],
        ['Filtered', st.filtered], ['Latency p50 / p99', st.latency_p50_ms === null ? '—' : `${st.latency_p50_ms} / ${st.latency_p99_ms} ms`],
        ['Lag', st.lag_records === null ? '—' : `${st.lag_records} records`], ['Circuit', st.circuit || '—']]
        .map(([k, x]) => [h('dt', {}, k), h('dd', {}, String(x))])));
  } catch { return null; }
}

function tryIt(i) {
  const mode = { last: h('input', { type: 'radio', name: 'try-mode', id: 'try-last', value: 'last', checked: true }), paste: h('input', { type: 'radio', name: 'try-mode', id: 'try-paste', value: 'paste' }) };
  const pasted = h('textarea', { id: 'try-event', rows: 6, spellcheck: 'false', class: 'code', placeholder: '{"specversion":"1.0","id":"1","source":"hookbus://sources/github","type":"github.push","data":{}}' });
  const out = h('div', { id: 'try-results', 'aria-live': 'polite' });
  const run = async () => {
    out.replaceChildren(h('p', { class: 'muted' }, 'Running…'));
    const req = { filter: i.filter.value.trim() || null, transform: i.transform.value.trim() || null };
    if (mode.paste.checked) {
      try { req.event = JSON.parse(pasted.value); } catch (e) { out.replaceChildren(message('error', `The pasted event is not JSON: ${e.message}`)); return; }
    } else {
      req.last = { topic: i.topic.value.trim(), count: 10 };
    }
    try {
      const r = await api('POST', '/mapping/test', req);
      if (!r.results.length) { out.replaceChildren(h('p', { class: 'muted' }, 'No recorded events on this topic yet.')); return; }
      // The form's event types (not yet saved) decide which events the subscription would take.
      const types = list(i.event_types.value);
      const takes = (t) => !types.length || types.some((p) => (p.endsWith('*') ? t.startsWith(p.slice(0, -1)) : p === t));
      const verdict = (x) => {
        if (!takes(x.event_type)) return badge('not_selected');
        if (x.error) return badge('error');
        return x.passed ? badge('delivered') : badge('filtered');
      };
      out.replaceChildren(h('ol', { class: 'results' }, r.results.map((x) => h('li', { class: x.passed && takes(x.event_type) ? 'pass' : 'skip' },
        h('div', {}, h('span', { class: 'mono' }, x.event_id), ` ${x.event_type} · `, verdict(x)),
        x.error ? h('p', { class: 'err' }, `${x.error.code}: ${x.error.message}`) : null,
        x.output !== null && x.output !== undefined ? h('pre', { class: 'json' }, pretty(x.output)) : null))));
    } catch (err) {
      out.replaceChildren(message('error', err.message),
        err.details.length ? h('ul', { class: 'problems' }, err.details.map((p) => h('li', {}, problemText(p)))) : '');
    }
  };
  return h('section', { class: 'try', 'aria-labelledby': 'try-title' },
    h('h2', { id: 'try-title' }, 'Try it'),
    h('p', { class: 'muted' }, 'Runs the filter and transform above on events without delivering anything.'),
    h('div', { class: 'check' }, mode.last, h('label', { for: 'try-last' }, ' The last 10 events of the topic'), ' ',
      mode.paste, h('label', { for: 'try-paste' }, ' A pasted event')),
    field('Event (CloudEvent JSON)', pasted),
    h('button', { type: 'button', id: 'try-run', onclick: run }, 'Run'), out);
}
