// The console's only way to the server: the public admin API (/api/v1) with the session cookie,
// plus /console/session to sign in and out. Writes carry the session's CSRF token.
let session = null;

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || 'http_error';
    this.details = e.details || [];
  }
}

export const current = () => session;
export const canWrite = () => Boolean(session && session.scope === 'write');

async function parse(r) {
  const text = await r.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch { return { error: { message: text } }; }
}

export async function loadSession() {
  const r = await fetch('/console/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  session = r.ok ? await r.json() : null;
  return session;
}

export async function signIn(token) {
  const r = await fetch('/console/session', {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ token }),
  });
  const body = await parse(r);
  if (!r.ok) throw new ApiError(r.status, body);
  session = body;
  return session;
}

export async function signOut() {
  const csrf = session ? session.csrf : '';
  session = null;
  await fetch('/console/session', { method: 'DELETE', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf } });
}

// `poll`: a background refresh, which does not count as activity for the idle limit.
export async function api(method, path, body, { poll = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session) headers['X-CSRF-Token'] = session.csrf;
  if (poll) headers['X-Console-Poll'] = '1';
  const r = await fetch(`/api/v1${path}`, {
    method, credentials: 'same-origin', headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await parse(r);
  if (r.status === 401) {
    session = null;
    window.dispatchEvent(new Event('hookbus:signed-out'));
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const enc = encodeURIComponent;

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
