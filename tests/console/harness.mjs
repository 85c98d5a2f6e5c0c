// Starts what the console tests need, loopback only: `hookbus serve` with a temp config on free
// ports, a receiver whose answer per path the tests set, and headless Debian Chromium.
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const WRITE = 'console-write-token';
export const READ = 'console-read-token';
export const GITHUB_SECRET = 'console-gh-secret';
// `run` sets CONSOLE_STORE (a postgres:// URL, or unset for SQLite) and CONSOLE_STORE_NAME.
const STORE = process.env.CONSOLE_STORE || 'sqlite';
export const ARTIFACTS = path.resolve(path.dirname(new URL(import.meta.url).pathname), 'artifacts', process.env.CONSOLE_STORE_NAME || 'sqlite');

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Polls `fn` until it returns a truthy value; fails after `ms`.
export async function waitFor(fn, ms = 15000, what = 'condition') {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

export class Receiver {
  constructor() {
    this.status = new Map(); // path -> status code (default 200)
    this.reply = new Map(); // path -> JSON body (default: what was received where)
    this.requests = [];
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ method: req.method, path: req.url, headers: req.headers, body });
        const code = this.status.get(req.url) || 200;
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.reply.get(req.url) || { received: code < 300, path: req.url }));
      });
    });
  }
  async start() {
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
  }
  on(p) { return this.requests.filter((r) => r.path === p); }
  stop() { return new Promise((r) => this.server.close(r)); }
}

export class Hookbus {
  // Free ports are picked before hookbus binds them, so another process on this shared machine may
  // take one meanwhile: a start that does not become ready is tried once more on new ports.
  async start(bin) {
    try {
      await this.startOnce(bin);
    } catch (e) {
      console.error(`hookbus did not start, trying again on other ports: ${e.message}`);
      await this.stop();
      await this.startOnce(bin);
    }
  }

  async startOnce(bin) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'hookbus-console-'));
    this.webPort = await freePort();
    this.adminPort = await freePort();
    const config = `
[server]
listen = "127.0.0.1:${this.webPort}"

[admin]
listen = "127.0.0.1:${this.adminPort}"
store = "${STORE}"
encryption_key = { value = "console-test-encryption-key" }
session_key = { value = "console-test-session-key" }
session_idle = "30m"
session_max = "12h"

[[admin.tokens]]
name = "operator"
token = { value = "${WRITE}" }
scope = "write"

[[admin.tokens]]
name = "viewer"
token = { value = "${READ}" }
scope = "read"

[broker]
backend = "embedded"

[broker.embedded]
path = "${path.join(this.dir, 'hookbus.db')}"

[worker]
allow_targets = ["127.0.0.1"]

[sources.github]
scheme = "github"
secrets = [{ value = "${GITHUB_SECRET}" }]

# A source whose pushes must carry an integer ref: the others are quarantined.
[sources.vendor]
scheme = "github"
secrets = [{ value = "${GITHUB_SECRET}" }]
on_violation = "quarantine"
contracts = { "github.push" = { type = "object", required = ["ref"], properties = { ref = { type = "integer" } } } }
`;
    const file = path.join(this.dir, 'hookbus.toml');
    writeFileSync(file, config);
    this.log = [];
    this.proc = spawn(bin, ['serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } });
    for (const s of [this.proc.stdout, this.proc.stderr]) s.on('data', (d) => { this.log.push(d.toString()); if (this.log.length > 500) this.log.shift(); });
    this.exited = new Promise((r) => this.proc.on('exit', r));
    this.admin = `http://127.0.0.1:${this.adminPort}`;
    this.web = `http://127.0.0.1:${this.webPort}`;
    try {
      await waitFor(async () => {
        if (this.proc.exitCode !== null) throw new Error(`hookbus exited with ${this.proc.exitCode}`);
        return (await fetch(`${this.admin}/readyz`)).ok;
      }, 20000, 'hookbus /readyz');
    } catch (e) {
      throw new Error(`${e.message}\n--- hookbus output ---\n${this.log.join('')}`);
    }
  }

  // The admin API with a bearer token, for setting up what a test does not exercise itself.
  async api(method, p, body, token = WRITE) {
    const r = await fetch(`${this.admin}/api/v1${p}`, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  }

  // Posts a webhook signed the way GitHub signs it (HMAC-SHA256 of the exact body).
  async github(event, payload, { id = randomUUID(), secret = GITHUB_SECRET, source = 'github' } = {}) {
    const body = JSON.stringify(payload);
    const sig = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const r = await fetch(`${this.web}/webhooks/${source}`, {
      method: 'POST', body,
      headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': id, 'x-hub-signature-256': sig },
    });
    return { status: r.status, id };
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
      await this.exited;
      clearTimeout(t);
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

// Playwright gives every launch a fresh temporary profile (it refuses --user-data-dir for launch()).
export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout: 30000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
  return browser;
}

export async function shot(page, name, { fullPage = false } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
}
