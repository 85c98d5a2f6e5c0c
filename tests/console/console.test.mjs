// Browser tests of the web console against a real `hookbus serve` (embedded broker, SQLite
// store), a local receiver and headless Chromium. One server for the file; tests run in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hookbus, Receiver, launch, shot, waitFor, WRITE, READ } from './harness.mjs';

const bin = process.env.HOOKBUS_BIN;
const hb = new Hookbus();
const rx = new Receiver();
let browser;
let ctx;
let page;
const T = 20000;

async function signIn(p, token) {
  await p.goto(`${hb.admin}/console`);
  await p.getByLabel('Admin token', { exact: true }).fill(token);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.locator('#sign-out').waitFor({ timeout: T });
}

async function newPage(opts = {}) {
  const c = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...opts });
  const p = await c.newPage();
  p.setDefaultTimeout(T);
  p.on('pageerror', (e) => { throw new Error(`page error: ${e.message}`); });
  return { c, p };
}

before(async () => {
  assert.ok(bin, 'HOOKBUS_BIN must name the hookbus binary (tests/console/run sets it)');
  await rx.start();
  await hb.start(bin);
  browser = await launch();
  ({ c: ctx, p: page } = await newPage());
});

after(async () => {
  if (browser) await browser.close();
  await hb.stop();
  await rx.stop();
});

test('sign in exchanges the token for an HttpOnly SameSite=Strict cookie; a wrong token is refused', async () => {
  await page.goto(`${hb.admin}/console`);
  const csp = (await page.request.get(`${hb.admin}/console`)).headers()['content-security-policy'];
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  await page.getByLabel('Admin token', { exact: true }).fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('That token is not one of [admin] tokens.').waitFor();
  await shot(page, 'sign-in');
  await signIn(page, WRITE);
  const cookie = (await ctx.cookies()).find((c) => c.name === 'hookbus_session');
  assert.ok(cookie, 'session cookie set');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.ok(cookie.expires > Date.now() / 1000, 'the cookie expires');
  assert.equal(await page.evaluate(() => document.cookie.includes('hookbus_session')), false, 'scripts cannot read it');
  assert.ok(!(await page.content()).includes(WRITE), 'the token is not kept in the page');
  // The API refuses a cookie write without the CSRF token.
  const r = await page.evaluate(async () => (await fetch('/api/v1/subscriptions/x/pause', { method: 'POST' })).status);
  assert.equal(r, 403);
});

test('create a subscription in the form', async () => {
  await page.goto(`${hb.admin}/console#/subscriptions`);
  await page.locator('#new-subscription').click();
  await page.getByLabel('Name', { exact: true }).fill('crm');
  await page.getByLabel('Topic', { exact: true }).fill('github');
  await page.getByLabel('Event types', { exact: true }).fill('github.push');
  await page.getByLabel('Target URL', { exact: true }).fill(`${rx.url}/crm`);
  await page.getByLabel('Headers', { exact: true }).fill('X-Team: crm');
  await page.getByLabel('Transform (jq)', { exact: true }).fill('{repo: .data.repository.name, note: .data.note}');
  await page.getByLabel('Retry schedule', { exact: true }).fill('0s, 1h');
  await page.getByLabel('Concurrency', { exact: true }).fill('4');
  await page.locator('#save').click();
  await page.getByRole('heading', { name: 'Subscription crm' }).waitFor();
  await page.getByText('version 1').waitFor();
  const sub = (await hb.api('GET', '/subscriptions/crm')).body;
  assert.equal(sub.target, `${rx.url}/crm`);
  assert.deepEqual(sub.event_types, ['github.push']);
  assert.equal(sub.headers['X-Team'] || sub.headers['x-team'], 'crm');
  assert.equal(sub.concurrency, 4);
  assert.deepEqual(sub.retry.schedule, ['0s', '1h']);
  await shot(page, 'subscription-form');
});

let firstId;
test('a signed webhook shows on the events page with a delivered attempt', async () => {
  // The worker picks up a new subscription within a second; wait until it is running.
  await new Promise((r) => setTimeout(r, 1500));
  const sent = await hb.github('push', { ref: 'refs/heads/main', repository: { name: 'hookbus' }, note: 'first' });
  assert.equal(sent.status, 202, 'ingress accepted it');
  firstId = sent.id;
  await page.goto(`${hb.admin}/console#/events`);
  await page.locator('#events-body a', { hasText: firstId }).waitFor({ timeout: T });
  await shot(page, 'events');
  await page.locator('#events-body a', { hasText: firstId }).click();
  const crm = page.locator('.delivery[data-subscription="crm"]');
  await crm.locator('.badge', { hasText: 'delivered' }).waitFor({ timeout: T });
  await crm.locator('.attempt', { hasText: 'HTTP 200' }).waitFor();
  assert.equal(JSON.parse(rx.on('/crm')[0].body).repo, 'hookbus');
  await page.locator('#payload', { hasText: '"refs/heads/main"' }).waitFor();
  await shot(page, 'event');
});
