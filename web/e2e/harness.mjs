// Shared set-up of the browser end-to-end tests: the real studio binary, the fake fal server and
// Debian's Chromium, each test file starting its own stack with `useStack()`. Run `npm run build`
// (static/) and `cargo build --workspace --bins` first (the studio and fake-fal), then `npm run e2e`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const staticDir = path.resolve(webDir, '../static');
export const artifactsDir = path.join(webDir, 'e2e', 'artifacts');
// Where `cargo build` put the binaries: CARGO_TARGET_DIR when set (a relative one is taken from the
// repo root, where scripts/test runs cargo), else the repo's target/.
const debugDir = path.resolve(webDir, '..', process.env.CARGO_TARGET_DIR ?? 'target', 'debug');
const fakeFalBin = path.resolve(webDir, process.env.FAKE_FAL_BIN ?? path.join(debugDir, 'fake-fal'));
const studioBin = path.resolve(webDir, process.env.STUDIO_BIN ?? path.join(debugDir, 'fal-studio'));
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const STARTUP_TIMEOUT_MS = 30_000;
export const STEP_TIMEOUT_MS = 15_000;
export const PASSWORD = 'correct horse battery staple';

// What the flows generate with: models of the fake fal's catalog (fixtures/fal-schemas/), the key it
// accepts, how long a job may take, and an image to upload.
export const SEEDREAM_T2I = 'fal-ai/bytedance/seedream/v4/text-to-image';
export const KONTEXT = 'fal-ai/flux-pro/kontext';
export const VEO3 = 'fal-ai/veo3';
export const FAL_KEY = 'fake-key-id:fake-secret';
export const JOB_TIMEOUT_MS = 30_000;
/** A 1×1 transparent PNG. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/;

/**
 * Starts a binary and resolves with the URL from its `listening on http://…` line
 * (stdout or stderr, ANSI colours stripped). Rejects with everything it printed on exit or timeout.
 */
function startServer(children, name, bin, env) {
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

/**
 * Starts the fake fal, the studio (fresh data dir, pointed at the fake fal) and Chromium.
 * Call `close()` in `after` (or let `useStack` do both).
 * @returns {Promise<{studioUrl: string, falUrl: string, browser: import('playwright-core').Browser, close: () => Promise<void>}>}
 */
export async function startStack() {
  for (const [what, file, hint] of [
    ['studio binary', studioBin, 'run `cargo build --workspace --bins` or set STUDIO_BIN'],
    ['fake fal binary', fakeFalBin, 'run `cargo build --workspace --bins` or set FAKE_FAL_BIN'],
    ['built frontend', path.join(staticDir, 'index.html'), 'run `npm run build` in web/'],
    ['Chromium', chromiumPath, 'install Debian chromium or set CHROMIUM_PATH'],
  ]) {
    assert.ok(existsSync(file), `${what} not found at ${file}: ${hint}`);
  }

  const children = [];
  let browser;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'fal-studio-e2e-'));
  const close = async () => {
    await browser?.close();
    await Promise.all(children.map(stop));
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const falUrl = await startServer(children, 'fake fal', fakeFalBin, { FAKE_FAL_ADDR: '127.0.0.1:0' });
    const studioUrl = await startServer(children, 'studio', studioBin, {
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
    return { studioUrl, falUrl, browser, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * A fresh browser context and page that collects console errors and uncaught exceptions.
 * Chromium logs every non-2xx fetch as a console error: `expectedFailures` (`{status, path}`)
 * lists the answers a flow expects; anything else (CSP violations, exceptions) is collected.
 * `contextOptions` go to `browser.newContext` (a phone viewport, `bypassCSP` for the axe audit).
 */
export async function openPage(browser, studioUrl, expectedFailures = [], contextOptions = {}) {
  const context = await browser.newContext({ baseURL: studioUrl, locale: 'en-US', timezoneId: 'UTC', ...contextOptions });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  const consoleErrors = [];
  const isExpected = (message) => {
    const match = /status of (\d{3})/.exec(message.text());
    if (!match) return false;
    const { pathname } = new URL(message.location().url || 'about:blank', 'http://x');
    return expectedFailures.some((f) => f.status === Number(match[1]) && f.path === pathname);
  };
  page.on('console', (message) => {
    if (message.type() === 'error' && !isExpected(message)) {
      consoleErrors.push(`${message.text()} (${message.location().url})`);
    }
  });
  page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
  return { context, page, consoleErrors };
}

/**
 * The one set-up of a test file: registers node:test's `before` (start the stack) and `after`
 * (close it) at the file's top level, so every file still runs alone. Read the stack from the
 * returned object inside tests (it is empty until `before` ran); `openPage` binds its browser and URL.
 */
export function useStack() {
  /** @type {Awaited<ReturnType<typeof startStack>> | undefined} */
  let stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });
  const current = () => {
    assert.ok(stack, 'the stack is read before `before` started it (use it inside a test)');
    return stack;
  };
  return {
    get studioUrl() {
      return current().studioUrl;
    },
    get falUrl() {
      return current().falUrl;
    },
    get browser() {
      return current().browser;
    },
    /** `openPage` on this stack's browser and studio. */
    openPage(expectedFailures = [], contextOptions = {}) {
      return openPage(current().browser, current().studioUrl, expectedFailures, contextOptions);
    },
  };
}

export function uniqueEmail() {
  return `e2e-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** From any signed-out page: creates an account and waits for the studio. */
export async function signUp(page, email) {
  await page.goto('/signup');
  await page.getByRole('heading', { name: 'Create an account' }).waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Studio', level: 1 }).waitFor();
}

/** `text` as a literal inside a RegExp. */
export const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Searches the picker and clicks the model with exactly this endpoint id. */
export async function clickModel(page, search, endpointId) {
  await page.getByRole('searchbox', { name: 'Search models' }).fill(search);
  const results = page.getByRole('list', { name: 'Models', exact: true });
  await results.getByRole('button', { name: new RegExp(`${escapeRegExp(endpointId)}(\\s|$)`) }).first().click();
}

export async function screenshot(page, name) {
  await mkdir(artifactsDir, { recursive: true });
  await page.screenshot({ path: path.join(artifactsDir, name), fullPage: true }).catch(() => {});
}

/** Signs up through the API (no UI), from a page of the studio's origin; the session cookie stays. */
export async function signUpByApi(page, email) {
  await page.evaluate(
    async ({ email, password }) => {
      const response = await fetch('/api/auth/signup', {
        method: 'POST',
        credentials: 'include',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      if (!response.ok) throw new Error(`sign-up: ${response.status} ${await response.text()}`);
    },
    { email, password: PASSWORD },
  );
}

/** Saves the fal key and runs one generation per prompt from the page (multipart, like the form);
 * resolves with the first asset id of each. */
export async function generateByApi(page, prompts) {
  return page.evaluate(
    async ({ key, endpoint, prompts, timeout }) => {
      const send = async (method, path, init = {}) => {
        const response = await fetch(path, { method, credentials: 'include', ...init });
        if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
        return response.json();
      };
      await send('PUT', '/api/account/fal-key', {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ key }),
      });
      const ids = [];
      for (const prompt of prompts) {
        const form = new FormData();
        form.append('endpoint', endpoint);
        form.append('params', JSON.stringify({ prompt }));
        const { job } = await send('POST', '/api/generations', { body: form });
        const deadline = Date.now() + timeout;
        for (;;) {
          const { job: now } = await send('GET', `/api/jobs/${job.id}`);
          if (now.status === 'completed') {
            ids.push(now.assets[0].id);
            break;
          }
          if (['failed', 'cancelled'].includes(now.status)) throw new Error(`job ${now.status}: ${JSON.stringify(now.error)}`);
          if (Date.now() > deadline) throw new Error(`job still ${now.status}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      return ids;
    },
    { key: FAL_KEY, endpoint: SEEDREAM_T2I, prompts, timeout: JOB_TIMEOUT_MS },
  );
}

// --- Accessibility audit (axe-core) ---------------------------------------------------------

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');
/**
 * WCAG 2.0, 2.1 and 2.2, levels A and AA, plus axe's "best practice" rules (landmarks, heading
 * order, one h1): the app passes those too. `AXE_TAGS=wcag2a,wcag2aa` narrows a run.
 */
export const AXE_TAGS = (process.env.AXE_TAGS ?? 'wcag2a,wcag2aa,wcag21a,wcag21aa,wcag22a,wcag22aa,best-practice').split(',');

/**
 * Collects axe-core violations page by page; `assertClean()` fails with all of them at once.
 *
 * axe is injected with `page.addScriptTag`, an inline `<script>`: the app's CSP (`script-src
 * 'self'`) and the share page's (`default-src 'none'`) refuse it, and evaluating the source from
 * the page (`new Function`, `eval`) is refused just the same. So the pages audited here are
 * opened in a context made with `bypassCSP: true` (see `openPage`'s `contextOptions`): for the
 * audit only. The other browser tests run under the real policy and fail on any CSP violation.
 *
 * Every page is checked twice, with `prefers-color-scheme: light` and `dark`: the colours differ.
 *
 * `known` lists violations that are not the frontend's to fix (`{page, id, target, reason}`, the
 * target as axe prints it): they are left out of the failure and listed by `knownSeen()` instead.
 */
export function createAuditor({ known = [] } = {}) {
  const found = [];
  const knownSeen = [];
  let pages = 0;
  const isKnown = (label, id, target) =>
    known.find((k) => k.page === label && k.id === id && (k.target === undefined || k.target === target));
  return {
    /** Audits what the page shows now; `exclude` takes CSS selectors axe should skip. */
    async check(page, label, { exclude = [], schemes = ['light', 'dark'] } = {}) {
      pages += 1;
      const loaded = await page.evaluate(() => typeof globalThis.axe?.run === 'function');
      if (!loaded) await page.addScriptTag({ path: AXE_PATH });
      for (const colorScheme of schemes) {
        await page.emulateMedia({ colorScheme });
        const violations = await page.evaluate(
          async ({ tags, exclude }) => {
            const axe = globalThis.axe;
            const context = exclude.length === 0 ? globalThis.document : { exclude: exclude.map((s) => [s]) };
            const result = await axe.run(context, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
            return result.violations.map((v) => ({
              id: v.id,
              impact: v.impact,
              help: v.help,
              nodes: v.nodes.map((node) => ({ target: node.target.join(' '), summary: node.failureSummary ?? '' })),
            }));
          },
          { tags: AXE_TAGS, exclude },
        );
        for (const v of violations) {
          const nodes = v.nodes.filter((node) => {
            const allowed = isKnown(label, v.id, node.target);
            if (allowed) knownSeen.push(`[${label}, ${colorScheme}] ${v.id} ${node.target}: ${allowed.reason}`);
            return !allowed;
          });
          if (nodes.length > 0) found.push({ page: label, scheme: colorScheme, ...v, nodes });
        }
      }
      await page.emulateMedia({ colorScheme: null });
    },
    /** Every violation so far, one readable block each. */
    report() {
      return found.map(
        (v) =>
          `[${v.page}, ${v.scheme}] ${v.id} (${v.impact}): ${v.help}\n` +
          v.nodes.map((n) => `    ${n.target}\n      ${n.summary.replace(/\n/g, '\n      ')}`).join('\n'),
      );
    },
    /** The `known` violations that were met (for the test's diagnostics). */
    knownSeen() {
      return [...knownSeen];
    },
    get pages() {
      return pages;
    },
    assertClean() {
      const lines = this.report();
      assert.ok(lines.length === 0, `axe found ${lines.length} WCAG A/AA violation(s):\n${lines.join('\n')}`);
    },
  };
}
