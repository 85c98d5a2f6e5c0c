// Sources: the URL to give the provider, its scheme, when the last webhook came, recent
// rejections with their reason, accepted/rejected per minute over the last hour, and for a source
// whose schema contracts quarantine, the events held back with what is wrong, and Release.
import { h, fmtTime, chart, sum, message } from './dom.js';
import { api, get, enc, canWrite } from './api.js';

// Release results outlive the 5 s redraws of the page.
const notes = new Map();
const noteFor = (name) => {
  if (!notes.has(name)) notes.set(name, h('div', { class: 'release-note', 'aria-live': 'polite' }));
  return notes.get(name);
};

async function release(name, draw) {
  const note = noteFor(name);
  note.replaceChildren();
  try {
    const r = await api('POST', `/sources/${enc(name)}/quarantine/release`, {});
    note.replaceChildren(message('ok', `Released ${r.released.length}; ${r.kept.length} still break the contracts.`),
      r.kept.length ? h('ul', { class: 'problems' }, r.kept.map((k) => h('li', {}, h('code', {}, k.event_id), ': ',
        k.violations.map((v) => `${v.path || '(data)'} ${v.message}`).join('; ')))) : '');
    await draw(false);
  } catch (err) { note.replaceChildren(message('error', err.message)); }
}

async function quarantineBox(s, poll, draw) {
  if (!s.quarantine_topic) return null;
  const q = await get(`/sources/${enc(s.name)}/quarantine?limit=50`, { poll });
  const rows = q.events.map((e) => h('tr', { 'data-event': e.event_id },
    h('td', { class: 'mono' }, e.event_id), h('td', {}, e.event_type), h('td', {}, fmtTime(e.quarantined_at)),
    h('td', { class: 'wrap' }, h('ul', { class: 'violations' }, e.violations.map((v) => h('li', {}, h('code', {}, v.path || '(data)'), ' ', v.message))))));
  return h('section', { class: 'quarantine' },
    h('h3', {}, `Quarantine (${q.total})`),
    q.total
      ? h('div', { class: 'scroll' }, h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, ['Event', 'Type', 'Held since', 'What is wrong'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows)))
      : h('p', { class: 'muted' }, 'Nothing held back.'),
    q.total && canWrite()
      ? h('button', { type: 'button', class: 'release', onclick: () => release(s.name, draw) }, 'Release what now passes')
      : null,
    noteFor(s.name));
}

export async function render(el, _arg, _q, ctx) {
  const body = h('div', { id: 'sources' });
  const draw = async (poll) => {
    const [{ sources }, series] = await Promise.all([get('/sources', { poll }), get('/series?minutes=60', { poll })]);
    const held = await Promise.all(sources.map((s) => quarantineBox(s, poll, draw).catch((e) => message('error', e.message))));
    body.replaceChildren(...sources.map((s, n) => {
      const ser = series.sources.find((x) => x.name === s.name) || { accepted: [], rejected: [] };
      return h('section', { class: 'card source', 'data-source': s.name },
        h('h2', {}, s.name),
        h('dl', { class: 'facts' },
          h('dt', {}, 'URL for the provider'), h('dd', {}, h('code', { class: 'url' }, s.url), s.url_is_public ? '' : h('small', {}, ' (this node’s listener: set public_url behind a proxy)')),
          h('dt', {}, 'Scheme'), h('dd', {}, s.scheme),
          h('dt', {}, 'Topic'), h('dd', {}, s.topic),
          h('dt', {}, 'Last received'), h('dd', { class: 'last-received' }, fmtTime(s.last_received_at)),
          h('dt', {}, 'Last hour'), h('dd', {}, h('span', { class: 'accepted' }, `${sum(ser.accepted)} accepted`), ' · ', h('span', { class: 'rejected' }, `${sum(ser.rejected)} rejected`))),
        chart(ser.accepted, ser.rejected, `${s.name}: accepted and rejected per minute, last hour`),
        h('h3', {}, 'Recent rejections'),
        s.rejections.length
          ? h('ul', { class: 'rejections' }, s.rejections.map((r) => h('li', {}, fmtTime(r.at), ' ', h('strong', {}, r.code), ': ', r.message)))
          : h('p', { class: 'muted' }, 'None.'),
        held[n]);
    }));
    if (!sources.length) body.append(h('p', {}, 'No sources configured.'));
  };
  el.replaceChildren(h('h1', {}, 'Sources'), body);
  await draw(false);
  ctx.every(5000, () => draw(true).catch(() => {}));
}
