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
  // The list refreshes by itself until the delivery is reported.
  const row = page.locator('#events-body tr', { hasText: firstId });
  await row.locator('.status[data-subscription="crm"] .badge', { hasText: 'delivered' }).waitFor({ timeout: T });
  await shot(page, 'events');
  await page.locator('#events-body a', { hasText: firstId }).click();
  const crm = page.locator('.delivery[data-subscription="crm"]');
  await crm.locator('.badge', { hasText: 'delivered' }).waitFor({ timeout: T });
  await crm.locator('.attempt', { hasText: 'HTTP 200' }).waitFor();
  assert.equal(JSON.parse(rx.on('/crm')[0].body).repo, 'hookbus');
  await page.locator('#payload', { hasText: '"refs/heads/main"' }).waitFor();
  await shot(page, 'event');
});

test('a payload containing <script> renders as text', async () => {
  const evil = '<script>window.__owned = 1</script><img src=x onerror="window.__owned = 2">';
  const sent = await hb.github('push', { ref: 'refs/heads/main', repository: { name: 'x' }, note: evil });
  assert.equal(sent.status, 202);
  await page.goto(`${hb.admin}/console#/events?q=${encodeURIComponent('window.__owned')}`);
  await page.locator('#events-body a', { hasText: sent.id }).click();
  const pre = page.locator('#payload');
  await pre.waitFor();
  assert.ok((await pre.textContent()).includes('<script>window.__owned = 1</script>'), 'shown as text');
  assert.equal(await page.evaluate(() => window.__owned), undefined, 'nothing ran');
  assert.equal(await page.locator('#payload script, #payload img, #envelope script').count(), 0, 'no elements made from data');
  // The Try it output of the crm transform shows the same text, also escaped.
  await page.locator('.delivery[data-subscription="crm"] .badge', { hasText: 'delivered' }).waitFor();
  assert.equal(await page.evaluate(() => window.__owned), undefined);
});

test('a failing target: retrying timeline, fix it, Retry now, delivered', async () => {
  rx.status.set('/flaky', 500);
  const created = await hb.api('POST', '/subscriptions', {
    name: 'flaky', topic: 'github', event_types: ['github.deployment'], target: `${rx.url}/flaky`,
    retry: { schedule: ['0s', '1h', '1h'] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await new Promise((r) => setTimeout(r, 1500));
  const sent = await hb.github('deployment', { deployment: { id: 7 }, repository: { name: 'api' } });
  await waitFor(async () => (await hb.api('GET', `/events/${sent.id}`)).status === 200, T, 'the event indexed');
  await page.goto(`${hb.admin}/console#/events/${sent.id}`);
  const box = page.locator('.delivery[data-subscription="flaky"]');
  await box.locator('.badge', { hasText: 'retrying' }).waitFor({ timeout: T });
  await box.locator('.attempt', { hasText: 'HTTP 500' }).waitFor();
  await box.getByText(/next retry/).waitFor();
  await shot(page, 'event-retrying');
  rx.status.set('/flaky', 200);
  await box.getByRole('button', { name: 'Retry now' }).click();
  await box.getByText('Queued for delivery now.').waitFor();
  await box.locator('.badge', { hasText: 'delivered' }).waitFor({ timeout: T });
  await box.locator('.attempt', { hasText: 'HTTP 200' }).waitFor();
  assert.ok(rx.on('/flaky').length >= 2, 'the target saw the failed and the retried request');
  await shot(page, 'event-retried');
});

test('dead-letter three events and redrive them in bulk', async () => {
  rx.status.set('/strict', 400);
  const created = await hb.api('POST', '/subscriptions', {
    name: 'strict', topic: 'github', event_types: ['github.issues'], target: `${rx.url}/strict`,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await new Promise((r) => setTimeout(r, 1500));
  const ids = [];
  for (let i = 0; i < 3; i += 1) ids.push((await hb.github('issues', { action: 'opened', issue: { number: i } })).id);
  await waitFor(async () => {
    const r = await hb.api('GET', '/events?subscription=strict&status=dead_lettered');
    return r.body.events.length === 3;
  }, T, 'three dead letters');
  await page.goto(`${hb.admin}/console#/dead-letters?subscription=strict&reason=permanent_failure`);
  for (const id of ids) await page.locator('#dead-body a', { hasText: id }).waitFor();
  await page.getByLabel('Select all').check();
  assert.equal(await page.locator('#dead-body input:checked').count(), 3);
  await shot(page, 'dead-letters');
  rx.status.set('/strict', 200);
  await page.getByRole('button', { name: 'Redrive 3 selected' }).click();
  await page.locator('#redrive-status', { hasText: /succeeded: 3 of 3 redriven/ }).waitFor({ timeout: T });
  await waitFor(() => rx.on('/strict').filter((r) => r.headers['webhook-id']).length >= 6 || rx.on('/strict').length >= 6, T, 'redriven deliveries');
  await waitFor(async () => (await hb.api('GET', '/events?subscription=strict&status=delivered')).body.events.length === 3, T, 'three delivered');
  await page.reload();
  await page.getByText('No dead letters match.').waitFor();
});

test('edit, pause, resume and delete a subscription', async () => {
  await page.goto(`${hb.admin}/console#/subscriptions/crm`);
  await page.getByLabel('Transform (jq)', { exact: true }).fill('{repo: .data.repository.name, edited: true}');
  await page.locator('#save').click();
  await page.getByText('Saved: version 2.').waitFor();
  assert.equal((await hb.api('GET', '/subscriptions/crm')).body.transform, '{repo: .data.repository.name, edited: true}');
  await page.goto(`${hb.admin}/console#/subscriptions`);
  const row = page.locator('tr[data-name="crm"]');
  await row.getByRole('button', { name: 'Pause' }).click();
  await row.locator('.badge', { hasText: 'paused' }).waitFor();
  assert.equal((await hb.api('GET', '/subscriptions/crm')).body.paused, true);
  await row.getByRole('button', { name: 'Resume' }).click();
  await row.locator('.badge', { hasText: 'active' }).waitFor();
  assert.equal((await hb.api('GET', '/subscriptions/crm')).body.paused, false);
  await shot(page, 'subscriptions');
  assert.equal((await hb.api('POST', '/subscriptions', { name: 'temp', topic: 'github', target: `${rx.url}/temp` })).status, 201);
  await page.reload();
  page.once('dialog', (d) => d.accept());
  await page.locator('tr[data-name="temp"]').getByRole('button', { name: 'Delete' }).click();
  await page.locator('tr[data-name="temp"]').waitFor({ state: 'detached' });
  assert.equal((await hb.api('GET', '/subscriptions/temp')).status, 404);
});

test('Try it shows the outputs for recorded events and a jq error with its position', async () => {
  await page.goto(`${hb.admin}/console#/subscriptions/crm`);
  await page.locator('#try-run').click();
  const results = page.locator('#try-results');
  await results.locator('li', { hasText: firstId }).waitFor();
  assert.ok((await results.textContent()).includes('"repo": "hookbus"'), 'the transform output of the first event');
  await shot(page, 'try-it');
  const transform = page.getByLabel('Transform (jq)', { exact: true });
  await transform.fill('{repo: .data.repository.name,\n  bad: (.data | }');
  const err = page.locator('#transform-error');
  await err.getByText(/line 2, column \d+/).waitFor();
  await shot(page, 'jq-error');
  await page.locator('#try-run').click();
  await results.getByText(/transform: line 2, column \d+/).waitFor();
  await transform.fill('{repo: .data.repository.name}');
  await err.locator('.msg').waitFor({ state: 'detached' });
});

test('overview and sources show the figures of the events sent', async () => {
  const bad = await hb.github('push', { ref: 'x' }, { secret: 'wrong-secret' });
  assert.equal(bad.status, 401);
  await page.goto(`${hb.admin}/console#/overview`);
  const crm = page.locator('#overview-subscriptions [data-subscription="crm"]');
  await crm.locator('.delivered').waitFor();
  const delivered = Number((await crm.locator('.delivered').textContent()).split(' ')[0]);
  assert.ok(delivered >= 2, `crm delivered ${delivered}`);
  const gh = page.locator('#overview-sources [data-source="github"]');
  await waitFor(async () => Number((await gh.locator('.accepted').textContent()).split(' ')[0]) >= 6, T, 'accepted count');
  await page.locator('#overview-subscriptions [data-subscription="flaky"] .failed', { hasText: /^[1-9]\d* failed/ }).waitFor();
  await shot(page, 'overview');
  await page.goto(`${hb.admin}/console#/sources`);
  const src = page.locator('.source[data-source="github"]');
  await src.locator('.url', { hasText: `${hb.web}/webhooks/github` }).waitFor();
  await src.getByText('github', { exact: true }).first().waitFor();
  assert.notEqual((await src.locator('.last-received').textContent()).trim(), '—');
  await waitFor(async () => (await src.locator('.rejections li').count()) >= 1 || (await page.reload(), false), T, 'a rejection');
  await src.locator('.rejected', { hasText: /^[1-9]\d* rejected/ }).waitFor();
  await shot(page, 'sources');
  await page.goto(`${hb.admin}/console#/events`);
  await page.locator('#events-body .status[data-subscription="strict"]').first().waitFor();
  await shot(page, 'events-all');
});

test('a source with a schema contract lists its quarantined events as text and releases what passes', async () => {
  const markup = '<img src=x onerror=alert(1)>';
  const r = await hb.github('push', { ref: markup }, { source: 'vendor' });
  assert.equal(r.status, 202);
  await page.goto(`${hb.admin}/console#/sources`);
  const q = page.locator('.source[data-source="vendor"] .quarantine');
  await q.locator('.violations li', { hasText: '/ref' }).waitFor();
  assert.match(await q.locator('h3').textContent(), /Quarantine \(1\)/);
  assert.ok((await q.textContent()).includes(markup), 'the offending value is shown as text');
  assert.equal(await q.locator('img').count(), 0, 'and never as markup');
  assert.equal(await page.locator('.source[data-source="github"] .quarantine').count(), 0, 'github has no contract');
  await q.getByRole('button', { name: 'Release what now passes' }).click();
  await q.getByText('Released 0; 1 still break the contracts.').waitFor();
  await shot(page, 'quarantine');
});

test('a read-only token sees no write buttons and the API refuses its writes', async () => {
  const { c, p } = await newPage();
  await signIn(p, READ);
  await p.getByText('viewer · read only').waitFor();
  await p.goto(`${hb.admin}/console#/subscriptions`);
  await p.locator('tr[data-name="crm"]').waitFor();
  assert.equal(await p.locator('#new-subscription').count(), 0);
  assert.equal(await p.getByRole('button', { name: /Pause|Resume|Delete/ }).count(), 0);
  await p.goto(`${hb.admin}/console#/subscriptions/crm`);
  await p.getByText('Read-only session.').waitFor();
  assert.equal(await p.locator('#save').count(), 0);
  assert.ok(await p.getByLabel('Target URL', { exact: true }).isDisabled());
  await p.goto(`${hb.admin}/console#/events/${firstId}`);
  await p.locator('.delivery[data-subscription="crm"]').waitFor();
  assert.equal(await p.getByRole('button', { name: 'Retry now' }).count(), 0);
  await p.goto(`${hb.admin}/console#/dead-letters?subscription=strict`);
  await p.locator('#dead-letters').waitFor();
  assert.equal(await p.locator('#redrive').count(), 0);
  // Even with the CSRF token, the API refuses a read session's writes.
  const status = await p.evaluate(async () => {
    const s = await (await fetch('/console/session')).json();
    const r = await fetch('/api/v1/subscriptions/crm/pause', { method: 'POST', headers: { 'X-CSRF-Token': s.csrf } });
    return r.status;
  });
  assert.equal(status, 403);
  assert.equal((await hb.api('GET', '/subscriptions/crm')).body.paused, false);
  await c.close();
});

test('the main flow at 390x844', async () => {
  const { c, p } = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await signIn(p, WRITE);
  for (const [hash, name] of [['#/events', 'phone-events'], [`#/events/${firstId}`, 'phone-event'], ['#/subscriptions/crm', 'phone-subscription'], ['#/overview', 'phone-overview']]) {
    await p.goto(`${hb.admin}/console${hash}`);
    await p.locator('main h1').waitFor();
    await p.waitForLoadState('networkidle');
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${hash} fits the width (overflow ${overflow}px)`);
    await shot(p, name);
  }
  await p.goto(`${hb.admin}/console#/events/${firstId}`);
  await p.locator('.delivery[data-subscription="crm"] .badge', { hasText: 'delivered' }).waitFor();
  await c.close();
});

test('by keyboard alone: sign in, open an event, retry it', async () => {
  const { c, p } = await newPage();
  await p.goto(`${hb.admin}/console`);
  await p.locator('#token').waitFor();
  // The token field has focus on load.
  await p.keyboard.type(WRITE);
  await p.keyboard.press('Enter');
  await p.locator('#sign-out').waitFor();
  // Focus moves to the page's content; the navigation is just before it.
  let found = false;
  for (let i = 0; i < 15 && !found; i += 1) {
    await p.keyboard.press('Shift+Tab');
    found = await p.evaluate(() => document.activeElement && document.activeElement.textContent === 'Events' && document.activeElement.tagName === 'A');
  }
  assert.ok(found, 'the Events link is reachable with Shift+Tab');
  await p.keyboard.press('Enter');
  await p.locator('#events-body a').first().waitFor();
  found = false;
  for (let i = 0; i < 80 && !found; i += 1) {
    await p.keyboard.press('Tab');
    found = await p.evaluate((id) => document.activeElement && document.activeElement.textContent === id, firstId);
  }
  assert.ok(found, 'the event link is reachable with Tab');
  await p.keyboard.press('Enter');
  await p.locator('.delivery[data-subscription="crm"]').waitFor();
  found = false;
  for (let i = 0; i < 40 && !found; i += 1) {
    await p.keyboard.press('Tab');
    found = await p.evaluate(() => document.activeElement && document.activeElement.textContent === 'Retry now');
  }
  assert.ok(found, 'Retry now is reachable with Tab');
  const before = rx.on('/crm').length;
  await p.keyboard.press('Enter');
  await p.getByText('Queued for delivery now.').waitFor();
  await waitFor(() => rx.on('/crm').length > before, T, 'the retried delivery');
  await c.close();
});

test('sign-out ends the session, also for a copy of the cookie', async () => {
  const cookie = (await ctx.cookies()).find((x) => x.name === 'hookbus_session');
  await page.goto(`${hb.admin}/console#/events`);
  await page.locator('#sign-out').click();
  await page.getByLabel('Admin token', { exact: true }).waitFor();
  assert.equal((await ctx.cookies()).find((x) => x.name === 'hookbus_session'), undefined, 'the browser dropped it');
  const headers = { cookie: `hookbus_session=${cookie.value}` };
  assert.equal((await fetch(`${hb.admin}/console/session`, { headers })).status, 401);
  assert.equal((await fetch(`${hb.admin}/api/v1/subscriptions`, { headers })).status, 401);
  await page.goto(`${hb.admin}/console#/subscriptions`);
  await page.getByLabel('Admin token', { exact: true }).waitFor();
});
