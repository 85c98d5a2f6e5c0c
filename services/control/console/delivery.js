// The delivery settings of the subscription form and detail view: where requests go (the target
// URL with its method, or a topic), outbound authentication and secret maps, and the output
// (content mode, fan-out limit, output schema). Secrets are write-only: the form shows the hint the
// API returns (the last four characters) to say one is set, never a value, and a secret field left
// empty keeps the stored secret.
import { h, field, pretty } from './dom.js';

const AUTH = {
  basic: { label: 'Basic', fields: ['username', 'password'], secret: 'password' },
  bearer: { label: 'Bearer token', fields: ['token'], secret: 'token' },
  oauth2_client_credentials: {
    label: 'OAuth2 client credentials', fields: ['token_url', 'client_id', 'client_secret', 'scope', 'audience'], secret: 'client_secret',
  },
};
// Every auth field in form order, and the secret ones, as the kinds above define them.
const AUTH_FIELDS = [...new Set(Object.values(AUTH).flatMap((a) => a.fields))];
const SECRETS = new Set(Object.values(AUTH).map((a) => a.secret));
const OPTIONAL = new Set(['scope', 'audience']);
const CONTENT_MODES = [['', 'Default: structured, raw with a transform'], ['structured', 'Structured (application/cloudevents+json)'],
  ['binary', 'Binary (ce-* headers, data as the body)'], ['raw', 'Raw (the output or data as the body)']];

function select(name, options, value) {
  const el = h('select', { name }, options.map(([v, label]) => h('option', { value: v }, label)));
  // Set after the options exist: a select ignores a value it has no option for.
  el.value = value;
  return el;
}

const text = (name, value, attrs = {}) => h('input', { name, value: value || '', autocomplete: 'off', spellcheck: 'false', ...attrs });
const secret = (name) => h('input', { name, type: 'password', autocomplete: 'new-password' });

// The form's controls for these settings, in three groups. `target` and `signing` are the form's
// target URL and signing secret inputs, placed in the Destination and Authentication groups.
export function deliveryForm(existing, { target, signing }) {
  const v = existing || {};
  const auth = v.auth || null;
  const c = {
    deliver_to: select('deliver_to', [['http', 'An HTTP request to the target URL'], ['topic', 'A topic of the broker']], v.destination ? 'topic' : 'http'),
    method: select('method', [['POST', 'POST'], ['PUT', 'PUT'], ['PATCH', 'PATCH']], v.method || 'POST'),
    destination_topic: text('destination_topic', v.destination && v.destination.topic, { placeholder: 'crm-mapped' }),
    auth_kind: select('auth_kind', [['', 'None'], ...Object.entries(AUTH).map(([k, a]) => [k, a.label])], auth ? auth.kind : ''),
    username: text('username', auth && auth.username),
    password: secret('password'),
    token: secret('token'),
    token_url: text('token_url', auth && auth.token_url, { type: 'url', placeholder: 'the provider\'s token endpoint' }),
    client_id: text('client_id', auth && auth.client_id),
    client_secret: secret('client_secret'),
    scope: text('scope', auth && auth.scope, { placeholder: 'optional' }),
    audience: text('audience', auth && auth.audience, { placeholder: 'optional' }),
    content_mode: select('content_mode', CONTENT_MODES, v.content_mode_set ? v.content_mode : ''),
    max_outputs: h('input', { name: 'max_outputs', type: 'number', min: 1, value: v.max_outputs || '', placeholder: '100' }),
    output_schema: h('textarea', { name: 'output_schema', rows: 4, spellcheck: 'false', class: 'code', placeholder: '{"type": "object", "required": ["email"]}' }),
  };
  c.output_schema.value = v.output_schema === null || v.output_schema === undefined ? '' : pretty(v.output_schema);
  const wrap = {
    target: field('Target URL', target),
    method: field('Method', c.method),
    destination_topic: field('Destination topic', c.destination_topic, 'Mapped events are published here (CloudEvents binary mode); not a source topic.'),
    username: field('Username', c.username),
    token_url: field('Token URL', c.token_url),
    client_id: field('Client ID', c.client_id),
    scope: field('Scope', c.scope),
    audience: field('Audience', c.audience),
  };
  const labels = { password: 'Password', token: 'Bearer token', client_secret: 'Client secret' };
  for (const f of SECRETS) wrap[f] = field(labels[f], c[f], 'Stored encrypted, never shown again.');
  const maps = secretMaps(v.secret_maps || {});

  // Only the fields of the chosen destination and auth kind are shown; a stored secret of the
  // chosen kind is named by its hint, and left empty it stays.
  const sync = () => {
    const http = c.deliver_to.value === 'http';
    wrap.target.hidden = !http;
    wrap.method.hidden = !http;
    target.required = http;
    wrap.destination_topic.hidden = http;
    const kind = AUTH[c.auth_kind.value];
    for (const f of AUTH_FIELDS) wrap[f].hidden = !kind || !kind.fields.includes(f);
    for (const f of SECRETS) {
      const kept = auth && kind && auth.kind === c.auth_kind.value && kind.secret === f;
      c[f].placeholder = kept ? `set: ${auth.secret} (leave empty to keep)` : '';
    }
  };
  c.deliver_to.addEventListener('change', sync);
  c.auth_kind.addEventListener('change', sync);
  sync();

  const groups = h('div', { class: 'groups' },
    h('fieldset', { class: 'group', id: 'group-destination' }, h('legend', {}, 'Destination'),
      field('Deliver to', c.deliver_to), wrap.target, wrap.method, wrap.destination_topic),
    h('fieldset', { class: 'group', id: 'group-auth' }, h('legend', {}, 'Authentication'),
      field('Signing secret', signing, 'Standard Webhooks secret; stored encrypted, never shown again.'),
      field('Auth', c.auth_kind, 'Credentials for the target\'s API, sent with every request.'),
      AUTH_FIELDS.map((f) => wrap[f]), maps.node),
    h('fieldset', { class: 'group', id: 'group-output' }, h('legend', {}, 'Output'),
      field('Content mode', c.content_mode),
      field('Max outputs', c.max_outputs, 'Most outputs the transform may produce for one event, each delivered on its own.'),
      field('Output schema (JSON Schema)', c.output_schema, 'An output that breaks it is dead-lettered, never sent. Empty: none.')));

  // The body fields of these settings: for a create, or for a merge patch of `existing`.
  const values = () => {
    const http = c.deliver_to.value === 'http';
    const out = {
      target: http ? target.value.trim() : '',
      destination: http ? null : { kind: 'topic', topic: c.destination_topic.value.trim() },
      method: c.method.value,
      auth: authBody(c, auth, Boolean(existing)),
      secret_maps: existing ? maps.patch() : maps.created(),
      content_mode: c.content_mode.value || null,
      max_outputs: c.max_outputs.value ? Number(c.max_outputs.value) : null,
      output_schema: null,
    };
    const schema = c.output_schema.value.trim();
    if (schema) {
      try { out.output_schema = JSON.parse(schema); } catch (e) { throw new Error(`Output schema: not JSON: ${e.message}`); }
    }
    return out;
  };
  return { groups, values, controls: [...Object.values(c), ...maps.controls()] };
}

function authBody(c, stored, editing) {
  const kindName = c.auth_kind.value;
  const kind = AUTH[kindName];
  if (!kind) return null;
  const sameKind = stored && stored.kind === kindName;
  const out = { kind: kindName };
  for (const f of AUTH_FIELDS) {
    const value = c[f].value.trim();
    if (!kind.fields.includes(f)) {
      // A merge patch keeps the fields of the stored kind unless told to drop them.
      if (editing) out[f] = null;
    } else if (SECRETS.has(f)) {
      // Left empty: the stored secret of this kind stays (omitted); a new kind needs one (the API says so).
      if (value || !sameKind) out[f] = value;
    } else if (OPTIONAL.has(f) && !value) {
      if (editing) out[f] = null;
    } else {
      out[f] = value;
    }
  }
  return out;
}

// Secret maps: the stored entries with their hints and a Remove box each, and rows to add entries.
function secretMaps(stored) {
  const entries = Object.entries(stored).flatMap(([m, e]) => Object.keys(e).map((k) => ({ m, k, hint: e[k], remove: h('input', { type: 'checkbox', 'aria-label': `Remove ${m}.${k}` }) })));
  const rows = [];
  const list = h('div', { class: 'map-rows' });
  const addRow = () => {
    const r = {
      map: text('map', '', { 'aria-label': 'Secret map', placeholder: 'map, e.g. api_keys' }),
      key: text('key', '', { 'aria-label': 'Secret key', placeholder: 'key, e.g. acct_1' }),
      value: h('input', { type: 'password', autocomplete: 'new-password', 'aria-label': 'Secret value', placeholder: 'secret' }),
    };
    rows.push(r);
    list.append(h('div', { class: 'map-row' }, r.map, r.key, r.value));
  };
  addRow();
  const add = h('button', { type: 'button', id: 'add-secret-entry', onclick: addRow }, 'Add an entry');
  const added = () => rows.map((r) => ({ m: r.map.value.trim(), k: r.key.value.trim(), v: r.value.value })).filter((r) => r.m || r.k || r.v);
  const created = () => {
    const out = {};
    for (const { m, k, v } of added()) (out[m] = out[m] || {})[k] = v;
    return out;
  };
  // A null key removes that entry; a map left with no entries is removed whole (the API refuses an empty map).
  const patch = () => {
    const out = created();
    for (const e of entries.filter((x) => x.remove.checked)) if (!(out[e.m] && e.k in out[e.m])) (out[e.m] = out[e.m] || {})[e.k] = null;
    for (const m of Object.keys(stored)) {
      const left = Object.keys(stored[m]).filter((k) => !(out[m] && out[m][k] === null));
      const extra = out[m] ? Object.values(out[m]).filter((x) => x !== null).length : 0;
      if (!left.length && !extra) out[m] = null;
    }
    return out;
  };
  const node = h('div', { class: 'field', id: 'secret-maps' },
    h('span', { class: 'label' }, 'Secret maps'),
    entries.length ? h('ul', { class: 'map-entries' }, entries.map((e) => h('li', {},
      h('span', { class: 'mono' }, `${e.m}.${e.k}`), ` set: ${e.hint} `, h('label', {}, e.remove, ' Remove')))) : null,
    list, h('div', {}, add),
    h('small', {}, 'Add or replace entries; header values look them up with {{ secret("map"; .data.key) }}. Stored encrypted, never shown again.'));
  return { node, created, patch, controls: () => [add, ...entries.map((e) => e.remove), ...rows.flatMap((r) => [r.map, r.key, r.value])] };
}

function authText(a) {
  if (!a) return 'none';
  const kind = AUTH[a.kind] ? AUTH[a.kind].label : a.kind;
  const parts = [kind];
  if (a.username) parts.push(`user ${a.username}`);
  if (a.client_id) parts.push(`client ${a.client_id}`);
  if (a.token_url) parts.push(`token URL ${a.token_url}`);
  if (a.scope) parts.push(`scope ${a.scope}`);
  if (a.audience) parts.push(`audience ${a.audience}`);
  parts.push(`secret set: ${a.secret}`);
  return parts.join(' · ');
}

// The detail view's summary of these settings (secrets as their hints).
export function settingsFacts(s) {
  const maps = Object.entries(s.secret_maps || {}).flatMap(([m, e]) => Object.entries(e).map(([k, hint]) => `${m}.${k} (${hint})`));
  const facts = [
    ['Delivers to', s.destination ? `topic ${s.destination.topic}` : `${s.method} ${s.target}`],
    ['Authentication', authText(s.auth)],
    ['Signing secret', s.signing_secret ? `set: ${s.signing_secret}` : 'none'],
    ['Secret maps', maps.length ? maps.join(', ') : 'none'],
    ['Content mode', `${s.content_mode}${s.content_mode_set ? '' : ' (default)'}`],
    ['Max outputs', s.max_outputs],
    ['Batch', s.batch ? `up to ${s.batch.max_events} per request, waiting at most ${s.batch.max_wait}` : 'off: one delivery per request'],
    ['Output schema', s.output_schema === null || s.output_schema === undefined ? 'none' : h('pre', { class: 'json' }, pretty(s.output_schema))],
  ];
  return h('section', { class: 'stats', id: 'settings' }, h('h2', {}, 'Settings'), h('dl', { class: 'facts' },
    facts.map(([k, x]) => [h('dt', {}, k), h('dd', { 'data-fact': k }, x instanceof Node ? x : String(x))])));
}
