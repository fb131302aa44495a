// Browser end-to-end test of sign-up, fal key, credits, sign-out and sign-in, against the real
// studio binary, the fake fal server and Debian's Chromium. Run `npm run build` (static/) and
// `cargo build --bins` first, then `npm run e2e`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const staticDir = path.resolve(webDir, '../static');
const artifactsDir = path.join(webDir, 'e2e', 'artifacts');
const fakeFalBin = path.resolve(webDir, process.env.FAKE_FAL_BIN ?? '../target/debug/fake-fal');
const studioBin = path.resolve(webDir, process.env.STUDIO_BIN ?? '../target/debug/fal-studio');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const STARTUP_TIMEOUT_MS = 30_000;
const STEP_TIMEOUT_MS = 15_000;
const PASSWORD = 'correct horse battery staple';
const VALID_KEY = 'fake-key-id:fake-secret';
const INVALID_KEY = 'invalid-key-id:nope';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/;

/** @type {import('node:child_process').ChildProcess[]} */
const children = [];
/** @type {import('playwright-core').Browser | undefined} */
let browser;
let dataDir = '';
let studioUrl = '';

/**
 * Starts a binary and resolves with the URL from its `listening on http://…` line
 * (stdout or stderr, ANSI colours stripped). Rejects with everything it printed on exit or timeout.
 */
function startServer(name, bin, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], {
      cwd: webDir,
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    let settled = false;
    const fail = (reason) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${name} (${bin}) ${reason}\n--- output ---\n${output || '(nothing)'}`));
    };
    const timer = setTimeout(
      () => fail(`did not print "listening on http://127.0.0.1:PORT" within ${STARTUP_TIMEOUT_MS} ms`),
      STARTUP_TIMEOUT_MS,
    );
    const onData = (chunk) => {
      output += chunk.toString('utf8').replace(ANSI, '');
      const match = LISTENING.exec(output);
      if (match && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error) => fail(`could not start: ${error.message}`));
    child.on('exit', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
  });
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timeout = new Promise((resolve) => setTimeout(resolve, 5_000, 'timeout'));
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

before(async () => {
  for (const [what, file, hint] of [
    ['studio binary', studioBin, 'run `cargo build --bins` or set STUDIO_BIN'],
    ['fake fal binary', fakeFalBin, 'run `cargo build --bins` or set FAKE_FAL_BIN'],
    ['built frontend', path.join(staticDir, 'index.html'), 'run `npm run build` in web/'],
    ['Chromium', chromiumPath, 'install Debian chromium or set CHROMIUM_PATH'],
  ]) {
    assert.ok(existsSync(file), `${what} not found at ${file}: ${hint}`);
  }

  dataDir = await mkdtemp(path.join(os.tmpdir(), 'fal-studio-e2e-'));
  const falUrl = await startServer('fake fal', fakeFalBin, { FAKE_FAL_ADDR: '127.0.0.1:0' });
  studioUrl = await startServer('studio', studioBin, {
    BIND_ADDR: '127.0.0.1:0',
    DATA_DIR: dataDir,
    STATIC_DIR: staticDir,
    FAL_API_URL: falUrl,
    FAL_QUEUE_URL: falUrl,
    FAL_RUN_URL: falUrl,
    FAL_SITE_URL: falUrl,
    FAL_REST_URL: falUrl,
  });

  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
});

after(async () => {
  await browser?.close();
  await Promise.all(children.map(stop));
  if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
});

/**
 * Chromium logs every non-2xx fetch as a console error. These are the answers the flow expects;
 * anything else (CSP violations, uncaught exceptions, unexpected failures) fails the test.
 */
const EXPECTED_FAILURES = [
  { status: 401, path: '/api/auth/me' }, // signed out
  { status: 401, path: '/api/account/fal-key' }, // the invalid key
];

function isExpectedFailure(message) {
  const match = /status of (\d{3})/.exec(message.text());
  if (!match) return false;
  const { pathname } = new URL(message.location().url || 'about:blank', 'http://x');
  return EXPECTED_FAILURES.some((f) => f.status === Number(match[1]) && f.path === pathname);
}

test('sign up, save a fal key, see credits, sign out and sign in again', async () => {
  const context = await browser.newContext({ baseURL: studioUrl, locale: 'en-US', timezoneId: 'UTC' });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !isExpectedFailure(message)) {
      consoleErrors.push(`${message.text()} (${message.location().url})`);
    }
  });
  page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));

  const email = `e2e-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const me = async () => (await (await context.request.get('/api/auth/me')).json()).user;

  try {
    // Signed out: / → /studio → sign-in page.
    const response = await page.goto('/');
    // The console check below only proves CSP-cleanliness if the policy is actually in force.
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');

    // Sign up with a fresh email → lands in the app.
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Studio' }).waitFor();
    await page.getByTestId('signed-in-email').getByText(email).waitFor();
    await page.getByText('add your fal key in').waitFor();

    // Settings: no key yet.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.getByTestId('fal-key-status').getByText('No fal key saved yet.').waitFor();

    // An invalid key is rejected and nothing is stored.
    await page.getByLabel('fal API key', { exact: true }).fill(INVALID_KEY);
    await page.getByRole('button', { name: 'Save key' }).click();
    await page.getByText(/fal rejected this key/).waitFor();
    assert.equal(await page.getByLabel('fal API key', { exact: true }).getAttribute('aria-invalid'), 'true');
    await page.getByTestId('fal-key-status').getByText('No fal key saved yet.').waitFor();
    assert.equal((await me()).hasFalKey, false, 'an invalid key must not be stored');

    // A valid key is saved and credits are shown.
    await page.getByLabel('fal API key', { exact: true }).fill(VALID_KEY);
    await page.getByRole('button', { name: 'Save key' }).click();
    await page.getByRole('status').getByText('Key saved.').waitFor();
    await page.getByTestId('fal-key-status').getByText('A fal key is saved.').waitFor();
    const balance = page.getByTestId('credits-balance');
    await balance.waitFor();
    assert.match(await balance.innerText(), /24\.50/);
    assert.equal((await me()).hasFalKey, true);

    // Sign out → the sign-in page.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await me(), undefined, 'the session must be gone after signing out');

    // Sign in again → the app, with the key still saved.
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Studio' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await page.getByTestId('fal-key-status').getByText('A fal key is saved.').waitFor();
    await page.getByTestId('credits-balance').getByText(/24\.50/).waitFor();

    assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
  } finally {
    await mkdir(artifactsDir, { recursive: true });
    await page.screenshot({ path: path.join(artifactsDir, 'auth-flow.png'), fullPage: true }).catch(() => {});
    await context.close();
  }
});
