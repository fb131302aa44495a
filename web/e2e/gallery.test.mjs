// Browser end-to-end test of the gallery: two generations, search, the viewer (metadata, keys),
// a share link opened signed-out (image + og:image), revoked (404), and select mode's zip link.
// Real studio binary + fake fal + Chromium (see fixtures.mjs).
// `document` below is only used in functions that run in the page.
/* global document */
import assert from 'node:assert/strict';
import { generateByApi, JOB_TIMEOUT_MS, KONTEXT, screenshot, SEEDREAM_T2I, STEP_TIMEOUT_MS, test } from './fixtures.mjs';

test('search, view, share publicly, revoke, and select in the gallery', async ({ page, account, consoleErrors, openPage, baseURL }) => {
  assert.ok(account.email, 'signed in through the API');
  const [foxId, whaleId] = await generateByApi(page.request, ['a red fox', 'a blue whale']);
  await page.goto('/studio');
  assert.ok(foxId && whaleId, 'both generations stored an asset');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Gallery' }).click();
  await page.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor();
  const grid = page.getByRole('list', { name: 'Assets' });
  const tiles = grid.locator('li.tile');
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 2);
  // Newest first.
  assert.deepEqual(await tiles.evaluateAll((items) => items.map((li) => li.dataset.assetId)), [whaleId, foxId]);
  await page.waitForFunction(() => [...document.querySelectorAll('li.tile img')].every((img) => img.complete && img.naturalWidth > 0));
  await screenshot(page, 'gallery-grid.png');

  // The viewer: metadata, ArrowLeft back to the newer one, Escape closes.
  await grid.getByRole('button', { name: 'Open a red fox' }).click();
  let viewer = page.getByRole('dialog', { name: 'a red fox' });
  await viewer.getByTestId('asset-metadata').getByText('a red fox').waitFor();
  assert.match(page.url(), new RegExp(`[?&]view=${foxId}`));
  await page.keyboard.press('ArrowLeft');
  viewer = page.getByRole('dialog', { name: 'a blue whale' });
  await viewer.getByTestId('asset-metadata').getByText('a blue whale').waitFor();
  await viewer.locator('img.viewer-media').evaluate((img) => img.decode());
  await screenshot(page, 'gallery-viewer.png');
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
  assert.doesNotMatch(page.url(), /view=/);

  // Search (debounced, in the URL): exactly one tile.
  await page.getByRole('searchbox', { name: 'Search' }).fill('whale');
  await page.waitForURL(/[?&]q=whale/);
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 1, null, { timeout: STEP_TIMEOUT_MS });
  assert.equal(await tiles.first().getAttribute('data-asset-id'), whaleId);
  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 1);
  assert.equal(await page.getByRole('searchbox', { name: 'Search' }).inputValue(), 'whale', 'the search survives a reload');

  // Share it (download allowed) and read the link.
  await grid.getByRole('button', { name: 'Open a blue whale' }).click();
  viewer = page.getByRole('dialog', { name: 'a blue whale' });
  await viewer.getByRole('button', { name: 'Share…' }).click();
  const share = page.getByRole('dialog', { name: 'Share image' });
  assert.equal(await share.getByLabel('Allow download').isChecked(), true);
  await share.getByRole('button', { name: 'Create link' }).click();
  const link = await share.getByTestId('share-link').inputValue();
  assert.match(link, /^https?:\/\/[^/]+\/s\/[^/?#]+$/, `an absolute share link: ${link}`);
  await share.getByRole('list', { name: 'Active links' }).getByRole('listitem').waitFor();
  await screenshot(page, 'gallery-share.png');
  // The server builds links from PUBLIC_URL; the test server listens on a random port.
  const sharePath = new URL(link).pathname;
  const shareUrl = new URL(sharePath, baseURL).href;

  // Signed out, in a fresh context: the image and its OpenGraph tag.
  const { page: guestPage, consoleErrors: guestErrors } = await openPage({ [`404 ${sharePath}`]: 'the revoked link' });
  const shown = await guestPage.goto(shareUrl);
  assert.equal(shown?.status(), 200);
  const image = guestPage.locator('img').first();
  await image.waitFor();
  await guestPage.waitForFunction(() => {
    const img = document.querySelector('img');
    return img !== null && img.complete && img.naturalWidth > 0;
  });
  const ogImage = await guestPage.locator('meta[property="og:image"]').getAttribute('content');
  assert.match(ogImage ?? '', /^https?:\/\//, 'og:image is an absolute URL');
  await screenshot(guestPage, 'gallery-share-public.png');

  // Revoke it from the share dialog; the public page is gone at once.
  await share.getByRole('button', { name: `Revoke ${link}` }).click();
  await share.getByText('No active links.').waitFor();
  const gone = await guestPage.reload();
  assert.equal(gone?.status(), 404);
  await screenshot(guestPage, 'gallery-share-revoked.png');
  assert.deepEqual(guestErrors, [], 'the share page has no console errors besides its 404');
  await page.keyboard.press('Escape');
  await share.waitFor({ state: 'detached' });
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });

  // Select mode: both assets, one zip link with both ids.
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 2);
  await page.getByRole('button', { name: 'Select', exact: true }).click();
  await grid.getByRole('button', { name: 'Select a red fox' }).click();
  await grid.getByRole('button', { name: 'Select a blue whale' }).click();
  await page.getByTestId('selected-count').getByText('2 selected').waitFor();
  const href = (await page.getByRole('link', { name: 'Download selected' }).getAttribute('href')) ?? '';
  const ids = new URL(href, baseURL).searchParams.get('ids')?.split(',') ?? [];
  assert.equal(new URL(href, baseURL).pathname, '/api/assets/download');
  assert.deepEqual(new Set(ids), new Set([foxId, whaleId]));
  await screenshot(page, 'gallery-select.png');

  await page.getByRole('button', { name: 'Done selecting' }).click();

  // Remix: the studio opens the fox's model with its prompt filled in.
  await grid.getByRole('button', { name: 'Open a red fox' }).click();
  await page.getByRole('dialog', { name: 'a red fox' }).getByRole('link', { name: 'Remix', exact: true }).click();
  await page.getByRole('heading', { name: 'Studio', level: 1 }).waitFor();
  await page.locator('.form-header code', { hasText: SEEDREAM_T2I }).waitFor();
  await page.waitForFunction(() => document.querySelector('textarea')?.value === 'a red fox');
  assert.doesNotMatch(page.url(), /remix=/);
  assert.match(page.url(), /[?&]model=/);

  // Use as reference: the whale goes into Kontext's reference bucket, by id, and the job runs.
  await page.goto('/gallery');
  await grid.getByRole('button', { name: 'Open a blue whale' }).click();
  await page.getByRole('dialog', { name: 'a blue whale' }).getByRole('link', { name: 'Use as reference' }).click();
  await page.getByTestId('reference-pending').waitFor();
  await page.getByRole('searchbox', { name: 'Search models' }).fill('kontext');
  await page
    .getByRole('list', { name: 'Models', exact: true })
    .getByRole('button', { name: new RegExp(`${KONTEXT.replace(/[/.]/g, '\\$&')}(\\s|$)`) })
    .first()
    .click();
  const references = page.getByRole('region', { name: /^References/ });
  const preview = references.locator('img.preview-asset');
  await preview.waitFor();
  assert.equal(await preview.getAttribute('src'), `/files/${whaleId}`);
  await page.getByRole('textbox', { name: /^Prompt/ }).fill('the whale, at night');
  const sent = page.waitForRequest((request) => request.url().endsWith('/api/generations') && request.method() === 'POST');
  await page.getByRole('button', { name: 'Generate' }).click();
  const body = (await sent).postData() ?? '';
  assert.match(body, new RegExp(`name="reference:generalReferences"\\r\\n\\r\\n${whaleId}`), 'the asset id goes as a text part');
  const job = page.getByRole('region', { name: 'Queue' }).locator('li.job[data-status="completed"]').first();
  await job.waitFor({ timeout: JOB_TIMEOUT_MS });
  await screenshot(page, 'gallery-reference.png');

  await screenshot(page, 'gallery-flow.png');
  assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
});
