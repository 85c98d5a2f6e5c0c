// Sources: the URL to give the provider, its scheme, when the last webhook came, recent
// rejections with their reason, and accepted/rejected per minute over the last hour.
import { h, fmtTime, chart, sum } from './dom.js';
import { get } from './api.js';

export async function render(el, _arg, _q, ctx) {
  const body = h('div', { id: 'sources' });
  const draw = async (poll) => {
    const [{ sources }, series] = await Promise.all([get('/sources', { poll }), get('/series?minutes=60', { poll })]);
    body.replaceChildren(...sources.map((s) => {
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
          : h('p', { class: 'muted' }, 'None.'));
    }));
    if (!sources.length) body.append(h('p', {}, 'No sources configured.'));
  };
  el.replaceChildren(h('h1', {}, 'Sources'), body);
  await draw(false);
  ctx.every(5000, () => draw(true).catch(() => {}));
}
