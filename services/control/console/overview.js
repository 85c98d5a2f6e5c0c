// Overview: per subscription delivered/failed per minute over the last hour, lag and circuit;
// endpoints failing now; per source accepted/rejected per minute.
import { h, chart, sum, badge } from './dom.js';
import { get, enc } from './api.js';

export async function render(el, _arg, _q, ctx) {
  const body = h('div');
  const draw = async (poll) => {
    const [series, subs] = await Promise.all([get('/series?minutes=60', { poll }), get('/subscriptions', { poll })]);
    const stats = await Promise.all(subs.subscriptions.map((s) => get(`/subscriptions/${enc(s.name)}/stats`, { poll }).catch(() => null)));
    const failingNow = [];
    const subCards = subs.subscriptions.map((s, i) => {
      const ser = series.subscriptions.find((x) => x.name === s.name) || { delivered: [], failed: [] };
      const st = stats[i];
      // Failing now: the last five minutes have failures and no delivery.
      const recentOk = sum(ser.delivered.slice(-5));
      const recentBad = sum(ser.failed.slice(-5));
      if (recentBad > 0 && recentOk === 0) failingNow.push(s.name);
      return h('section', { class: 'card', 'data-subscription': s.name },
        h('h3', {}, h('a', { href: `#/subscriptions/${enc(s.name)}` }, s.name), ' ', s.paused ? badge('paused') : ''),
        chart(ser.delivered, ser.failed, `${s.name}: delivered and failed per minute, last hour`),
        h('p', {}, h('span', { class: 'delivered' }, `${sum(ser.delivered)} delivered`), ' · ', h('span', { class: 'failed' }, `${sum(ser.failed)} failed`), ' (last hour)'),
        h('p', { class: 'muted' },
          `lag ${st && st.lag_records !== null ? `${st.lag_records} records` : '—'}`,
          ` · circuit ${st && st.circuit ? st.circuit.replace('_', ' ') : '—'}`,
          st ? ` · ${st.retrying} retrying · ${st.dead_lettered} dead-lettered` : ''));
    });
    const srcCards = series.sources.map((s) => h('section', { class: 'card', 'data-source': s.name },
      h('h3', {}, s.name),
      chart(s.accepted, s.rejected, `${s.name}: accepted and rejected per minute, last hour`),
      h('p', {}, h('span', { class: 'accepted' }, `${sum(s.accepted)} accepted`), ' · ', h('span', { class: 'rejected' }, `${sum(s.rejected)} rejected`), ' (last hour)')));
    body.replaceChildren(
      h('section', { id: 'failing', 'aria-live': 'polite' }, failingNow.length
        ? h('p', { class: 'msg error' }, `Failing now: ${failingNow.join(', ')}`)
        : h('p', { class: 'msg ok' }, 'No endpoint is failing now.')),
      h('h2', {}, 'Subscriptions'), h('div', { class: 'cards', id: 'overview-subscriptions' }, subCards.length ? subCards : h('p', {}, 'No subscriptions.')),
      h('h2', {}, 'Sources'), h('div', { class: 'cards', id: 'overview-sources' }, srcCards));
  };
  el.replaceChildren(h('h1', {}, 'Overview'), h('p', { class: 'muted' }, 'Per minute over the last hour; refreshed every 5 s.'), body);
  await draw(false);
  ctx.every(5000, () => draw(true).catch(() => {}));
}
