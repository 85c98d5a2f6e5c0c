// Browser tests of the subscription form's delivery settings — destination, method, auth, secret
// maps, content mode, max outputs, output schema — against a real `hookbus serve` (its own, on the
// store `run` chose), a local receiver that also answers OAuth2 token requests, and headless
// Chromium. Secrets are typed into the form, used by the worker, and never shown back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hookbus, Receiver, launch, shot, waitFor, WRITE } from './harness.mjs';

const bin = process.env.HOOKBUS_BIN;
const hb = new Hookbus();
const rx = new Receiver();
let browser;
let page;
const T = 20000;
const CLIENT_SECRET = 'client-secret-0001';
const MAP_SECRET = 'acct-one-key-0001';
// Markup in a stored value must show as text wherever the console renders it.
const MARKUP = '<img src=x onerror="window.__owned = 1">';
const label = (name) => page.getByLabel(name, { exact: true });

before(async () => {
  assert.ok(bin, 'HOOKBUS_BIN must name the hookbus binary (tests/console/run sets it)');
  await rx.start();
  rx.reply.set('/oauth/token', { access_token: 'tok-1', token_type: 'Bearer', expires_in: 3600 });
  await hb.start(bin);
  browser = await launch();
  const c = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await c.newPage();
  page.setDefaultTimeout(T);
  page.on('pageerror', (e) => { throw new Error(`page error: ${e.message}`); });
  await page.goto(`${hb.admin}/console`);
  await label('Admin token').fill(WRITE);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#sign-out').waitFor();
});

after(async () => {
  if (browser) await browser.close();
  await hb.stop();
  await rx.stop();
});

async function save() {
  await page.locator('#save').click();
}

test('create with OAuth2, PUT, a secret map and output settings: stored, used by the worker, never shown', async () => {
  await page.goto(`${hb.admin}/console#/subscriptions`);
  await page.locator('#new-subscription').click();
  await label('Name').fill('billing');
  await label('Topic').fill('github');
  await label('Event types').fill('github.push');
  await label('Headers').fill('X-Api-Key: {{ secret("api_keys"; .data.account) }}');
  await label('Target URL').fill(`${rx.url}/billing`);
  await label('Method').selectOption('PUT');
  await label('Auth').selectOption({ label: 'OAuth2 client credentials' });
  await label('Token URL').fill(`${rx.url}/oauth/token`);
  await label('Client ID').fill(MARKUP);
  await label('Client secret').fill(CLIENT_SECRET);
  await label('Scope').fill('invoices');
  await label('Secret map').fill('api_keys');
  await label('Secret key').fill('acct_1');
  await label('Secret value').fill(MAP_SECRET);
  await label('Transform (jq)').fill('{account: .data.account, ref: .data.ref}');
  await label('Content mode').selectOption('raw');
  await label('Max outputs').fill('20');
  await label('Output schema (JSON Schema)').fill('{"type": "object", "required": ["account"]}');
  await shot(page, 'subscription-settings-form');
  await save();
  await page.getByRole('heading', { name: 'Subscription billing' }).waitFor();
  await page.getByText('version 1').waitFor();

  const sub = (await hb.api('GET', '/subscriptions/billing')).body;
  assert.equal(sub.method, 'PUT');
  assert.equal(sub.max_outputs, 20);
  assert.equal(sub.content_mode, 'raw');
  assert.equal(sub.content_mode_set, true);
  assert.deepEqual(sub.output_schema, { type: 'object', required: ['account'] });
  assert.equal(sub.destination, null);
  assert.deepEqual(
    { kind: sub.auth.kind, token_url: sub.auth.token_url, client_id: sub.auth.client_id, scope: sub.auth.scope, secret: sub.auth.secret },
    { kind: 'oauth2_client_credentials', token_url: `${rx.url}/oauth/token`, client_id: MARKUP, scope: 'invoices', secret: '****0001' },
  );
  assert.deepEqual(sub.secret_maps, { api_keys: { acct_1: '****0001' } });
  const text = JSON.stringify(sub);
  assert.ok(!text.includes(CLIENT_SECRET) && !text.includes(MAP_SECRET), `the API never returns a secret: ${text}`);

  // The detail view shows the settings, the secrets as hints, the markup as text.
  const facts = page.locator('#settings');
  await facts.locator('[data-fact="Authentication"]', { hasText: 'OAuth2 client credentials' }).waitFor();
  assert.ok((await facts.textContent()).includes(`client ${MARKUP}`), 'the client id is shown as text');
  assert.match(await facts.locator('[data-fact="Authentication"]').textContent(), /secret set: \*\*\*\*0001/);
  assert.match(await facts.locator('[data-fact="Delivers to"]').textContent(), /^PUT http:\/\/127\.0\.0\.1:\d+\/billing$/);
  assert.equal(await facts.locator('[data-fact="Max outputs"]').textContent(), '20');
  assert.equal(await facts.locator('[data-fact="Batch"]').textContent(), 'off: one delivery per request');
  assert.equal(await facts.locator('[data-fact="Secret maps"]').textContent(), 'api_keys.acct_1 (****0001)');
  assert.equal(await page.locator('main img').count(), 0, 'no element made from data');
  assert.equal(await page.evaluate(() => window.__owned), undefined, 'nothing ran');
  assert.equal(await label('Client ID').inputValue(), MARKUP, 'the form holds it as a value');
  assert.equal(await label('Client secret').inputValue(), '', 'a stored secret is not put back in the form');
  assert.match(await label('Client secret').getAttribute('placeholder'), /set: \*\*\*\*0001 \(leave empty to keep\)/);
  const html = await page.content();
  assert.ok(!html.includes(CLIENT_SECRET) && !html.includes(MAP_SECRET), 'no secret in the page');
  await shot(page, 'subscription-settings');

  // The worker uses what was stored: a token fetched with the client secret, a PUT with it and
  // the key looked up in the secret map, the transform's output (checked by the schema) as the body.
  await new Promise((r) => setTimeout(r, 1500));
  const sent = await hb.github('push', { ref: 'refs/heads/main', account: 'acct_1' });
  assert.equal(sent.status, 202);
  await waitFor(() => rx.on('/billing').length >= 1, T, 'the delivery');
  const [tokenReq] = rx.on('/oauth/token');
  const form = new URLSearchParams(tokenReq.body);
  assert.deepEqual([form.get('grant_type'), form.get('client_id'), form.get('client_secret'), form.get('scope')],
    ['client_credentials', MARKUP, CLIENT_SECRET, 'invoices']);
  const [delivery] = rx.on('/billing');
  assert.equal(delivery.method, 'PUT');
  assert.equal(delivery.headers.authorization, 'Bearer tok-1');
  assert.equal(delivery.headers['x-api-key'], MAP_SECRET);
  assert.equal(JSON.parse(delivery.body).account, 'acct_1');
});

test('edit: the API\'s refusals show in the form; then a topic destination and a new auth kind', async () => {
  await page.goto(`${hb.admin}/console#/subscriptions/billing`);
  await label('Deliver to').selectOption('topic');
  assert.equal(await label('Target URL').isVisible(), false, 'a topic destination has no target URL');
  await label('Destination topic').fill('github');
  await save();
  const note = page.locator('#form-note');
  await note.locator('.problems li', { hasText: /^destination\.topic: `github` is a source topic/ }).waitFor();
  await shot(page, 'subscription-settings-error', { fullPage: true });
  assert.equal((await hb.api('GET', '/subscriptions/billing')).body.version, 1, 'nothing saved');

  // A schema that is not JSON is caught before anything is sent.
  await label('Output schema (JSON Schema)').fill('{"type":');
  await save();
  await note.getByText(/^Output schema: not JSON/).waitFor();
  await label('Output schema (JSON Schema)').fill('');

  await label('Destination topic').fill('billing-out');
  await save();
  await page.getByText('Saved: version 2.').waitFor();
  let sub = (await hb.api('GET', '/subscriptions/billing')).body;
  assert.deepEqual(sub.destination, { kind: 'topic', topic: 'billing-out' });
  assert.equal(sub.target, '');
  assert.equal(sub.output_schema, null, 'an emptied schema is removed');
  assert.equal(sub.auth.secret, '****0001', 'a secret left empty is kept');
  assert.deepEqual([sub.method, sub.max_outputs, sub.content_mode], ['PUT', 20, 'raw']);
  assert.deepEqual(sub.secret_maps, { api_keys: { acct_1: '****0001' } });
  await page.locator('#settings [data-fact="Delivers to"]', { hasText: 'topic billing-out' }).waitFor();
  assert.equal(await label('Deliver to').inputValue(), 'topic');

  // Another kind needs its own secret: the API names the empty one, then takes the new one.
  await label('Auth').selectOption({ label: 'Bearer token' });
  await save();
  await note.locator('.problems li', { hasText: 'auth.token: must not be empty' }).waitFor();
  await label('Bearer token').fill('bearer-token-0002');
  await save();
  await page.getByText('Saved: version 3.').waitFor();
  sub = (await hb.api('GET', '/subscriptions/billing')).body;
  assert.deepEqual([sub.auth.kind, sub.auth.secret, sub.auth.client_id, sub.auth.token_url], ['bearer', '****0002', null, null]);
  assert.ok(!JSON.stringify(sub).includes('bearer-token-0002'));
  await page.locator('#settings [data-fact="Authentication"]', { hasText: 'Bearer token · secret set: ****0002' }).waitFor();
  await page.goto(`${hb.admin}/console#/subscriptions`);
  await page.locator('tr[data-name="billing"] td', { hasText: 'topic billing-out' }).waitFor();
  await shot(page, 'subscription-settings-edited');
});
