// Dead letters of one subscription: filter by reason, type and time; select some or all; Redrive
// runs the bulk job (POST /subscriptions/{name}/redrive with the selected ids) and follows it.
import { h, fmtTime, field, message } from './dom.js';
import { api, get, enc, query, canWrite } from './api.js';

const REASONS = ['', 'retries_exhausted', 'permanent_failure', 'transform_error', 'max_age_exceeded', 'output_schema'];

export async function render(el, _arg, q, ctx) {
  const subs = (await get('/subscriptions')).subscriptions;
  const f = {
    subscription: h('select', { name: 'subscription' }, subs.map((s) => h('option', { value: s.name }, s.name))),
    reason: h('select', { name: 'reason' }, REASONS.map((r) => h('option', { value: r }, r ? r.replace(/_/g, ' ') : 'any'))),
    type: h('input', { name: 'type', placeholder: 'github.push or github.*' }),
    since: h('input', { name: 'since', type: 'datetime-local' }),
    until: h('input', { name: 'until', type: 'datetime-local' }),
  };
  f.subscription.value = q.get('subscription') || (subs[0] ? subs[0].name : '');
  f.reason.value = q.get('reason') || '';
  f.type.value = q.get('type') || '';
  const iso = (x) => (x ? new Date(x).toISOString() : '');
  const params = () => ({ subscription: f.subscription.value, reason: f.reason.value, type: f.type.value.trim(), since: iso(f.since.value), until: iso(f.until.value) });
  const all = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': 'Select all' });
  const tbody = h('tbody', { id: 'dead-body' });
  const note = h('div', { id: 'redrive-status', 'aria-live': 'polite' });
  const redrive = h('button', { type: 'button', id: 'redrive', disabled: true }, 'Redrive selected');
  const boxes = () => [...tbody.querySelectorAll('input[type=checkbox]')];
  const selected = () => boxes().filter((b) => b.checked).map((b) => b.value);
  const sync = () => {
    const n = selected().length;
    redrive.disabled = n === 0;
    redrive.textContent = n ? `Redrive ${n} selected` : 'Redrive selected';
    all.checked = n > 0 && n === boxes().length;
  };
  all.addEventListener('change', () => { boxes().forEach((b) => { b.checked = all.checked; }); sync(); });
  const load = async () => {
    if (!f.subscription.value) { tbody.replaceChildren(h('tr', {}, h('td', { colspan: 5 }, 'No subscriptions.'))); return; }
    const page = await get(`/events${query({ ...params(), status: 'dead_lettered', limit: 500 })}`);
    tbody.replaceChildren(...page.events.map((e) => h('tr', {},
      h('td', {}, canWrite() ? h('input', { type: 'checkbox', value: e.id, 'aria-label': `Select ${e.id}`, onchange: sync }) : null),
      h('td', {}, h('a', { href: `#/events/${enc(e.id)}`, class: 'mono' }, e.id)),
      h('td', {}, e.type), h('td', {}, e.source), h('td', {}, fmtTime(e.received_at)))));
    if (!page.events.length) tbody.append(h('tr', {}, h('td', { colspan: 5 }, 'No dead letters match.')));
    sync();
  };
  redrive.addEventListener('click', async () => {
    const ids = selected();
    note.replaceChildren(message('status', `Redriving ${ids.length} event(s)…`));
    try {
      const body = { event_ids: ids };
      if (f.reason.value) body.reason = f.reason.value;
      let job = await api('POST', `/subscriptions/${enc(f.subscription.value)}/redrive`, body);
      // Follow the job until it finishes (bounded: 2 minutes).
      for (let i = 0; i < 240 && ctx.alive() && (job.state === 'running' || job.state === 'queued'); i += 1) {
        note.replaceChildren(h('p', { role: 'status' }, `Job ${job.id}: ${job.state}, ${job.processed}/${job.total ?? '?'}`), h('progress', { max: job.total || 1, value: job.processed }));
        await new Promise((r) => setTimeout(r, 500));
        job = await get(`/jobs/${enc(job.id)}`);
      }
      note.replaceChildren(message(job.state === 'succeeded' ? 'ok' : 'error',
        `Job ${job.id} ${job.state}: ${job.processed} of ${job.total ?? ids.length} redriven${job.error ? ` (${job.error})` : ''}.`));
      await load();
    } catch (err) { note.replaceChildren(message('error', err.message)); }
  });
  el.replaceChildren(h('h1', {}, 'Dead letters'),
    h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); location.hash = `#/dead-letters${query(params())}`; } },
      field('Subscription', f.subscription), field('Reason', f.reason), field('Type', f.type), field('Since', f.since), field('Until', f.until),
      h('button', { type: 'submit' }, 'Apply')),
    canWrite() ? h('div', { class: 'toolbar' }, redrive) : null, note,
    h('div', { class: 'scroll' }, h('table', { class: 'grid', id: 'dead-letters' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, canWrite() ? all : ''), ['Id', 'Type', 'Source', 'Received'].map((c) => h('th', { scope: 'col' }, c)))),
      tbody)));
  await load();
}
