// Automated accessibility audit (axe-core, WCAG 2.x A and AA) of every page the other flows
// visit: sign-in, sign-up, the studio (form, Advanced open, Compare), the queue with finished
// jobs, the gallery (grid, actions menu, viewer, share dialog, shared links), settings without and
// with a key, the admin page (accounts, studio key, settings, usage with its chart, a confirmation),
// the app's 404, and the public share page and its 404. Each page in light and dark. Real studio
// binary + fake fal + Chromium (see fixtures.mjs; why `bypassCSP` is on: `createAuditor`); a
// studio of its own, so the account signed up here is the first, the admin.
import assert from 'node:assert/strict';
import {
  clickModel,
  createAuditor,
  FAL_KEY,
  JOB_TIMEOUT_MS,
  screenshot,
  SEEDREAM_T2I,
  signUp,
  signUpByApi,
  test,
  uniqueEmail,
  VEO3,
} from './fixtures.mjs';

test.use({
  studio: 'a11y',
  bypassCSP: true,
  expectedFailures: {
    '401 /api/auth/me': 'signed out',
    '404 /api/nothing-here': 'the app’s 404 page',
  },
});

const nav = (page, name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();

/**
 * The public share page is rendered by the Rust server (src/shares/page.rs + share.css), outside
 * web/: what axe finds there is listed here for the backend to fix, and reported, not failed on.
 */
const BACKEND_SHARE_PAGE = [
  {
    page: 'share page',
    id: 'color-contrast',
    target: 'a',
    reason:
      'src/shares/share.css, dark scheme: the Download button is #fff on #8b85ff (3.0:1, needs 4.5:1); a dark text colour (e.g. #0f0f14, 6.9:1) fixes it',
  },
  {
    page: 'share page',
    id: 'page-has-heading-one',
    reason: 'src/shares/page.rs: the open link page has no <h1> (best practice, not WCAG); e.g. a visually hidden title',
  },
];

test('every page passes axe (WCAG 2 A/AA) in light and dark', async ({ page, consoleErrors, openPage, baseURL }, testInfo) => {
  const a11y = createAuditor({ known: BACKEND_SHARE_PAGE });
  // Signed out.
  await page.goto('/login');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await a11y.check(page, 'sign-in');
  await page.goto('/signup');
  await page.getByRole('heading', { name: 'Create an account' }).waitFor();
  await a11y.check(page, 'sign-up');

  // Studio without a key, no model yet; settings without a key.
  await signUp(page, uniqueEmail());

  // The first answers held back: the model list, a model's form and the queue show skeletons.
  let release;
  const held = new Promise((resolve) => (release = resolve));
  const slow = /\/api\/(models(\/spec)?|jobs)\?/;
  await page.route(slow, async (route) => {
    await held;
    await route.continue().catch(() => {});
  });
  await page.goto(`/studio?model=${encodeURIComponent(SEEDREAM_T2I)}`);
  await page.getByRole('status').filter({ hasText: 'Loading models…' }).waitFor();
  await page.getByRole('status').filter({ hasText: 'Loading the model’s settings…' }).waitFor();
  await page.getByRole('status').filter({ hasText: 'Loading your jobs…' }).waitFor();
  await a11y.check(page, 'studio (loading skeletons)');
  await page.route(/\/api\/assets\?/, async (route) => {
    await held;
    await route.continue().catch(() => {});
  });
  await nav(page, 'Gallery');
  await page.getByRole('status').filter({ hasText: 'Loading your gallery…' }).waitFor();
  await a11y.check(page, 'gallery (loading skeleton)');
  release();
  await page.unrouteAll({ behavior: 'wait' });
  await page.getByText('No images yet').waitFor();
  await a11y.check(page, 'gallery (empty)');
  await nav(page, 'Studio');
  await page.goto('/studio');
  await page.getByRole('list', { name: 'Models', exact: true }).getByRole('listitem').first().waitFor();
  await a11y.check(page, 'studio (no model, no key)');
  await nav(page, 'Settings');
  await page.getByTestId('fal-key-status').getByText('No fal key saved yet.').waitFor();
  await page.getByRole('region', { name: /^Spend, last 30 days/ }).getByText(/Total/).waitFor();
  await a11y.check(page, 'settings (no key)');

  // Settings with a key (credits, remove key, its confirmation).
  await page.getByLabel('fal API key', { exact: true }).fill(FAL_KEY);
  await page.getByRole('button', { name: 'Save key' }).click();
  await page.getByTestId('credits-balance').waitFor();
  await a11y.check(page, 'settings (with key)');
  await page.getByRole('button', { name: 'Remove key' }).click();
  await page.getByRole('group', { name: 'Confirm key removal' }).waitFor();
  await a11y.check(page, 'settings (confirm removal)');
  await page.getByRole('button', { name: 'Cancel' }).click();

  // Studio: a model's form, Advanced open, then generate and wait for a finished job.
  await nav(page, 'Studio');
  await page.getByTestId('live-state').getByText('Live').waitFor();
  await clickModel(page, 'seedream', SEEDREAM_T2I);
  await page.locator('.form-header code', { hasText: SEEDREAM_T2I }).waitFor();
  await a11y.check(page, 'studio (model form)');
  const advanced = page.locator('details.advanced > summary');
  if ((await advanced.count()) > 0) {
    await advanced.click();
    await a11y.check(page, 'studio (Advanced open)');
  }
  await page.getByRole('textbox', { name: /^Prompt/ }).fill('a red fox');
  await page.getByRole('button', { name: 'Generate' }).click();
  const queue = page.getByRole('region', { name: 'Queue' });
  await queue.locator('li.job[data-status="completed"]').first().waitFor({ timeout: JOB_TIMEOUT_MS });
  await page.getByRole('textbox', { name: /^Prompt/ }).fill('bad [fal:policy]');
  await page.getByRole('button', { name: 'Generate' }).click();
  await queue.locator('li.job[data-status="failed"]').first().waitFor({ timeout: JOB_TIMEOUT_MS });
  await queue.locator('li.job[data-status="completed"] img').first().evaluate((img) => img.decode());
  await a11y.check(page, 'studio (queue: completed and failed jobs)');
  // A job's request, its tabs and the read-only code; closed again so the later checks see the queue as before.
  const completed = queue.locator('li.job[data-status="completed"]').first();
  await completed.getByRole('button', { name: 'Request' }).click();
  await completed.getByRole('tab', { name: 'Python' }).click();
  await a11y.check(page, 'studio (queue: a job’s request)');
  await completed.getByRole('button', { name: 'Request' }).click();

  // A favourite (the filled star) and the Recent list.
  await page.getByRole('searchbox', { name: 'Search models' }).fill('');
  await page.getByRole('list', { name: 'Models', exact: true }).getByRole('button', { name: /^Favourite / }).first().click();
  await page.getByRole('list', { name: 'Favourite models' }).waitFor();
  await page.getByRole('list', { name: 'Recent models' }).waitFor();
  await a11y.check(page, 'studio (favourites and recent)');

  // Compare mode: two models, the first one's form, then the results side by side.
  await page.getByRole('button', { name: 'Compare models' }).click();
  await clickModel(page, 'veo3', VEO3);
  const form = page.getByRole('form', { name: 'Compare settings' });
  await form.waitFor();
  await a11y.check(page, 'studio (compare)');
  await form.getByRole('textbox', { name: /^Prompt/ }).fill('a blue whale');
  await form.getByRole('button', { name: 'Compare 2 models' }).click();
  const results = page.getByRole('region', { name: 'Compare results' });
  for (const column of await results.locator('.compare-column').all()) {
    await column.getByTestId('job-status').getByText('Completed').waitFor({ timeout: JOB_TIMEOUT_MS });
  }
  await a11y.check(page, 'studio (compare results)');

  // The admin page (this account is the studio's first, its admin): accounts, the studio key,
  // settings, and the usage of the jobs above with its chart; then the disable confirmation, for
  // a member (the only admin's own Disable is off, with the reason beside it).
  const { context: memberContext } = await openPage();
  await signUpByApi(memberContext.request, uniqueEmail());
  await nav(page, 'Admin');
  await page.getByRole('heading', { name: 'Admin', level: 1 }).waitFor();
  await page.getByRole('region', { name: 'Accounts table' }).getByRole('rowheader').first().waitFor();
  await page.getByTestId('studio-key-status').waitFor();
  await page.getByRole('button', { name: 'Save settings' }).waitFor();
  await page.getByRole('img', { name: /^Estimated USD by user: / }).and(page.locator('[data-state="drawn"]')).waitFor();
  await a11y.check(page, 'admin (accounts, studio key, settings, usage)');
  await page.getByRole('button', { name: /^Disable / }).and(page.locator(':enabled')).first().click();
  await page.getByRole('dialog', { name: /^Disable / }).waitFor();
  await a11y.check(page, 'admin (confirm disable)');
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

  // Gallery: grid, an open actions menu, the viewer, the share dialog with a link, shared links.
  await nav(page, 'Gallery');
  await page.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor();
  const grid = page.getByRole('list', { name: 'Assets' });
  await grid.getByRole('button', { name: 'Open a red fox' }).waitFor();
  await page.waitForFunction(() =>
    // eslint-disable-next-line no-undef -- runs in the page
    [...document.querySelectorAll('li.tile img')].every((img) => img.complete && img.naturalWidth > 0),
  );
  await a11y.check(page, 'gallery (grid)');
  await grid.getByLabel('Actions for a red fox').click();
  await a11y.check(page, 'gallery (actions menu)');
  await page.keyboard.press('Escape');
  await grid.getByRole('button', { name: 'Open a red fox' }).click();
  const viewer = page.getByRole('dialog', { name: 'a red fox' });
  await viewer.getByTestId('asset-metadata').getByText('Created').waitFor();
  await viewer.locator('img.viewer-media').evaluate((img) => img.decode());
  await a11y.check(page, 'gallery (viewer)');
  await viewer.getByRole('button', { name: 'Share…' }).click();
  const share = page.getByRole('dialog', { name: 'Share image' });
  await share.getByText('No active links.').waitFor();
  await a11y.check(page, 'gallery (share dialog)');
  await share.getByRole('button', { name: 'Create link' }).click();
  const link = await share.getByTestId('share-link').inputValue();
  await share.getByRole('list', { name: 'Active links' }).getByRole('listitem').waitFor();
  await a11y.check(page, 'gallery (share dialog, link made)');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Shared links' }).click();
  await page.getByRole('list', { name: 'Shared links' }).getByRole('listitem').waitFor();
  await a11y.check(page, 'gallery (shared links)');
  await page.getByRole('button', { name: 'Assets' }).click();
  await page.getByRole('searchbox', { name: 'Search' }).fill('nothing matches this');
  await page.getByTestId('gallery-no-results').waitFor();
  await a11y.check(page, 'gallery (no results)');

  // The app's own 404.
  await page.goto('/no-such-page');
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await a11y.check(page, 'app 404');

  // The public share page, signed out, and its 404 once revoked.
  const { page: guestPage } = await openPage({}, { bypassCSP: true });
  await guestPage.goto(new URL(new URL(link).pathname, baseURL).href);
  await guestPage.locator('img').first().evaluate((img) => img.decode());
  await a11y.check(guestPage, 'share page');
  await page.goto('/gallery?tab=shares');
  await page.getByRole('button', { name: `Revoke ${link}` }).click();
  await page.getByText('You have not shared anything yet.').waitFor();
  assert.equal((await guestPage.reload())?.status(), 404);
  await a11y.check(guestPage, 'share page 404');
  await screenshot(guestPage, 'a11y-share-404.png');

  assert.ok(a11y.pages >= 20, `audited ${a11y.pages} pages`);
  for (const line of a11y.knownSeen()) {
    testInfo.annotations.push({ type: 'known, not the frontend’s', description: line });
    console.log(`known, not the frontend's: ${line}`);
  }
  a11y.assertClean();
  await screenshot(page, 'a11y-last.png');
  assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
});
