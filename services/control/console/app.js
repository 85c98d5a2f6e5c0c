// Entry point: the session, the sign-in form, the page router (#/page/arg?query) and the header.
import { h, message } from './dom.js';
import { current, loadSession, signIn, signOut } from './api.js';
import * as events from './events.js';
import * as subscriptions from './subscriptions.js';
import * as deadletters from './deadletters.js';
import * as sources from './sources.js';
import * as overview from './overview.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let cleanup = null;

const routes = {
  overview: overview.render,
  events: (el, arg, q, ctx) => (arg ? events.renderOne(el, arg, q, ctx) : events.renderList(el, q, ctx)),
  subscriptions: (el, arg, q, ctx) => (arg
    ? subscriptions.renderForm(el, arg === 'new' ? null : arg, ctx)
    : subscriptions.renderList(el, ctx)),
  'dead-letters': deadletters.render,
  sources: sources.render,
};

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  const [page, ...rest] = path.split('/');
  return { page: page || 'events', arg: rest.length ? decodeURIComponent(rest.join('/')) : null, q: new URLSearchParams(qs || '') };
}

function stop() {
  if (cleanup) cleanup();
  cleanup = null;
}

function header() {
  const s = current();
  nav.hidden = !s;
  who.replaceChildren();
  if (!s) return;
  who.append(
    h('span', { class: 'who' }, `${s.name} · ${s.scope === 'write' ? 'read & write' : 'read only'}`),
    h('button', { type: 'button', id: 'sign-out', onclick: async () => { stop(); await signOut(); route(); } }, 'Sign out'),
  );
}

function signInForm() {
  const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'current-password', required: true });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'signin', onsubmit: async (e) => {
    e.preventDefault();
    status.replaceChildren();
    try {
      await signIn(input.value);
      input.value = '';
      await route();
      main.focus({ preventScroll: true });
    } catch (err) {
      status.append(message('error', err.status === 401 ? 'That token is not one of [admin] tokens.' : err.message));
    }
  } },
  h('h1', {}, 'Sign in'),
  h('p', {}, 'Use an admin token from the [admin] tokens of the config. It is exchanged for a session cookie and not kept by the page.'),
  h('label', { for: 'token' }, 'Admin token'), input,
  h('button', { type: 'submit' }, 'Sign in'), status);
  main.replaceChildren(form);
  input.focus();
}

async function route() {
  stop();
  if (!current()) await loadSession();
  header();
  if (!current()) return signInForm();
  const { page, arg, q } = parseHash();
  const render = routes[page] || routes.events;
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${page}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  // Each page renders into its own element: a slower, older render then fills a detached one.
  const view = h('div', { class: 'view' }, h('p', {}, 'Loading…'));
  main.replaceChildren(view);
  let alive = true;
  const timers = [];
  const ctx = {
    alive: () => alive,
    // Runs `fn` every `ms` while this page is shown.
    every: (ms, fn) => timers.push(setInterval(() => { if (alive && !document.hidden) fn(); }, ms)),
  };
  cleanup = () => { alive = false; timers.forEach(clearInterval); };
  try {
    await render(view, arg, q, ctx);
  } catch (err) {
    if (alive) view.replaceChildren(message('error', err.message));
  }
}

window.addEventListener('hashchange', () => { route(); main.focus({ preventScroll: true }); });
window.addEventListener('hookbus:signed-out', () => { stop(); header(); signInForm(); });
route();
