// The browser tests' fixtures for @playwright/test (config: playwright.config.mjs): every worker
// starts its own stack (the fake fal server and the real studio binary on random ports, a fresh
// data dir), and each test gets Chromium (Debian's, see the config) pointed at it. Run
// `npm run build` (static/) and `cargo build --workspace --bins` first (the studio and fake-fal),
// then `npm run e2e`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base } from '@playwright/test';

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// E2E_STATIC_DIR: a web build elsewhere (`vite build --outDir …`), to try it without touching static/.
export const staticDir = path.resolve(webDir, process.env.E2E_STATIC_DIR ?? '../static');
export const artifactsDir = path.join(webDir, 'e2e', 'artifacts');
// Where `cargo build` put the binaries: CARGO_TARGET_DIR when set (a relative one is taken from the
// repo root, where scripts/test runs cargo), else the repo's target/.
const debugDir = path.resolve(webDir, '..', process.env.CARGO_TARGET_DIR ?? 'target', 'debug');
const fakeFalBin = path.resolve(webDir, process.env.FAKE_FAL_BIN ?? path.join(debugDir, 'fake-fal'));
const studioBin = path.resolve(webDir, process.env.STUDIO_BIN ?? path.join(debugDir, 'fal-studio'));
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const STARTUP_TIMEOUT_MS = 30_000;
/** How long one step (a click, a wait for an element, a navigation) may take. */
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
 * Starts the fake fal and the studio (fresh data dir, pointed at the fake fal).
 * @returns {Promise<{studioUrl: string, falUrl: string, close: () => Promise<void>}>}
 */
async function startStack(studio = 'shared') {
  for (const [what, file, hint] of [
    ['studio binary', studioBin, 'run `cargo build --workspace --bins` or set STUDIO_BIN'],
    ['fake fal binary', fakeFalBin, 'run `cargo build --workspace --bins` or set FAKE_FAL_BIN'],
    ['built frontend', path.join(staticDir, 'index.html'), 'run `npm run build` in web/'],
    ['Chromium', chromiumPath, 'install Debian chromium or set CHROMIUM_PATH'],
  ]) {
    assert.ok(existsSync(file), `${what} not found at ${file}: ${hint}`);
  }

  const children = [];
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `fal-studio-e2e-${studio}-`));
  const close = async () => {
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
      // Every test makes an account of its own, all from 127.0.0.1, far past the default 10
      // sign-ups per address an hour; that limit has its own tests in the API suite (exposure).
      SIGNUP_LIMIT_PER_HOUR: '1000',
    });
    return { studioUrl, falUrl, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Collects the page's console errors and uncaught exceptions. Chromium logs every non-2xx fetch
 * as a console error: `expectedFailures` maps the answers a flow expects (`'401 /api/auth/me'`,
 * status and path) to why; anything else (CSP violations, exceptions) is collected. An object,
 * not a list of pairs, because `test.use` would read a two-element array as `[value, options]`.
 */
function watchConsole(page, expectedFailures) {
  const consoleErrors = [];
  const isExpected = (message) => {
    const match = /status of (\d{3})/.exec(message.text());
    if (!match) return false;
    const { pathname } = new URL(message.location().url || 'about:blank', 'http://x');
    return Object.hasOwn(expectedFailures, `${match[1]} ${pathname}`);
  };
  page.on('console', (message) => {
    if (message.type() === 'error' && !isExpected(message)) {
      consoleErrors.push(`${message.text()} (${message.location().url})`);
    }
  });
  page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
  return consoleErrors;
}

/**
 * `test` with the stack. Fixtures:
 * - `studio` (worker option): which studio the worker's tests share, `'shared'` unless a file
 *   says otherwise with `test.use({studio: 'name'})`. Playwright gives each value its own workers,
 *   so a file with its own name gets a studio of its own, where its first sign-up is the first
 *   account, hence the studio's admin (the other files' accounts are members or, by luck of
 *   order, the admin of the shared studio);
 * - `stack` (worker): `{studioUrl, falUrl}`, shared by the worker's tests; each test makes its
 *   own account (`uniqueEmail`), so they never see each other's data;
 * - `baseURL`: the studio, so `page.goto('/login')` and `page.request` go there;
 * - `expectedFailures` (option, `test.use`): the non-2xx answers the flow expects (see `watchConsole`);
 * - `consoleErrors`: what `page` logged beyond those, for the test to assert empty at its end;
 * - `account`: `page`'s context signed up and in through the API (no page load), `{email}`;
 * - `openPage(expectedFailures, contextOptions)`: another context and page on the studio (a
 *   signed-out visitor, a `bypassCSP` guest), `{context, page, consoleErrors}`, closed after the test.
 */
export const test = base.extend({
  studio: ['shared', { scope: 'worker', option: true }],
  stack: [
    async ({ studio }, use) => {
      const stack = await startStack(studio);
      await use({ studioUrl: stack.studioUrl, falUrl: stack.falUrl });
      await stack.close();
    },
    { scope: 'worker', timeout: STARTUP_TIMEOUT_MS * 2 },
  ],
  baseURL: async ({ stack }, use) => use(stack.studioUrl),
  expectedFailures: [{}, { option: true }],
  consoleErrors: async ({ page, expectedFailures }, use) => use(watchConsole(page, expectedFailures)),
  account: async ({ page }, use) => {
    const email = uniqueEmail();
    await signUpByApi(page.request, email);
    await use({ email });
  },
  openPage: async ({ browser, baseURL, locale, timezoneId }, use, testInfo) => {
    const opened = [];
    await use(async (expectedFailures = {}, contextOptions = {}) => {
      const context = await browser.newContext({ baseURL, locale, timezoneId, ...contextOptions });
      const page = await context.newPage();
      opened.push({ context, page });
      return { context, page, consoleErrors: watchConsole(page, expectedFailures) };
    });
    // `screenshot: 'only-on-failure'` covers the `page` fixture; these pages are the test's own.
    const failed = testInfo.status !== testInfo.expectedStatus;
    for (const [index, { context, page }] of opened.entries()) {
      if (failed) await page.screenshot({ path: testInfo.outputPath(`opened-page-${index + 1}.png`), fullPage: true }).catch(() => {});
      await context.close();
    }
  },
});

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

/** Throws with the answer's status and body unless it is a 2xx; else its JSON. */
async function ok(response) {
  if (!response.ok()) throw new Error(`${response.url()}: ${response.status()} ${await response.text()}`);
  return response.json();
}

/**
 * Signs up through the API (no UI). `request` is a context's (`page.request`): it shares the
 * browser's cookies, so the session cookie is the page's too.
 * @param {import('@playwright/test').APIRequestContext} request
 */
export async function signUpByApi(request, email) {
  await ok(await request.post('/api/auth/signup', { data: { email, password: PASSWORD } }));
}

/** Saves the fake fal's key for the signed-in account. */
export async function saveFalKey(request) {
  await ok(await request.put('/api/account/fal-key', { data: { key: FAL_KEY } }));
}

/**
 * Saves the fal key and runs one generation per prompt (multipart, like the form), with `params`
 * besides the prompt (`{num_images: 6}`); resolves with the first asset id of each.
 * @param {import('@playwright/test').APIRequestContext} request
 */
export async function generateByApi(request, prompts, params = {}) {
  await saveFalKey(request);
  const ids = [];
  for (const prompt of prompts) {
    const { job } = await ok(
      await request.post('/api/generations', { multipart: { endpoint: SEEDREAM_T2I, params: JSON.stringify({ prompt, ...params }) } }),
    );
    const deadline = Date.now() + JOB_TIMEOUT_MS;
    for (;;) {
      const { job: now } = await ok(await request.get(`/api/jobs/${job.id}`));
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
 * opened in a context made with `bypassCSP: true` (`test.use` in a11y.test.mjs, `openPage`'s
 * `contextOptions`): for the
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
