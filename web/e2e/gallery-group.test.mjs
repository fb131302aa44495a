// Browser end-to-end test of "Group batches" in the gallery: a three-image generation and a single
// one; the toggle (kept in the URL over a reload) stacks the batch behind one tile, which expands
// in place from the keyboard and collapses again with focus kept, the viewer steps through it, and
// select mode takes the whole stack. axe audits both states. Real studio binary + fake fal +
// Chromium (see fixtures.mjs; `bypassCSP` for the audit only, as in a11y.test.mjs).
/* global document */
import assert from 'node:assert/strict';
import { createAuditor, generateByApi, screenshot, STEP_TIMEOUT_MS, test } from './fixtures.mjs';

test.use({ viewport: { width: 1280, height: 800 }, bypassCSP: true });

const BATCH = 'three red foxes in the snow';
const SINGLE = 'a lone heron';

/** Focus moves in an effect, just after the new element is drawn: wait for it rather than read it once. */
const focusOn = (page, name) =>
  page.waitForFunction(
    (name) => (document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent) === name,
    name,
    { timeout: STEP_TIMEOUT_MS },
  );

test('group a batch into one stack, expand it in place, and select it whole', async ({ page, account, consoleErrors }) => {
  assert.ok(account.email, 'signed in through the API');
  const a11y = createAuditor();
  await generateByApi(page.request, [SINGLE]);
  await generateByApi(page.request, [BATCH], { num_images: 3 });

  await page.goto('/gallery');
  await page.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor();
  const grid = page.getByRole('list', { name: 'Assets' });
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 4);

  // On: the batch is one stack with its count, the single stays a tile; the list is not refetched.
  await page.getByRole('checkbox', { name: 'Group batches' }).check();
  await page.waitForURL(/[?&]group=1/);
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 2);
  const stack = grid.getByRole('button', { name: `3 results: ${BATCH}` });
  assert.equal(await stack.getAttribute('aria-expanded'), 'false');
  assert.equal(await grid.getByTestId('stack-count').innerText(), '3 results');
  await grid.getByRole('button', { name: `Open ${SINGLE}` }).waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('li.tile img')].every((img) => img.complete && img.naturalWidth > 0));
  await screenshot(page, 'gallery-grouped.png');
  await a11y.check(page, 'gallery (grouped, collapsed)');

  // The keyboard expands it in place: a heading, three tiles, focus on "Collapse".
  await stack.focus();
  await page.keyboard.press('Enter');
  const collapse = page.getByRole('button', { name: 'Collapse' });
  await collapse.waitFor();
  assert.equal(await collapse.getAttribute('aria-expanded'), 'true');
  await focusOn(page, 'Collapse');
  const heading = page.getByRole('heading', { level: 2, name: new RegExp(`${BATCH}.*3 results`) });
  await heading.waitFor();
  const batchTiles = page.locator('li.batch li.tile');
  assert.equal(await batchTiles.count(), 3);
  await page.waitForFunction(() => [...document.querySelectorAll('li.batch img')].every((img) => img.complete && img.naturalWidth > 0));
  await screenshot(page, 'gallery-grouped-expanded.png');
  await a11y.check(page, 'gallery (grouped, expanded)');

  // The viewer steps through the batch in the order shown, and closes back onto the tile.
  const ids = await batchTiles.evaluateAll((items) => items.map((li) => li.dataset.assetId));
  await batchTiles.nth(0).getByRole('button', { name: `Open ${BATCH}` }).click();
  const viewer = page.getByRole('dialog', { name: BATCH });
  await viewer.waitFor();
  await page.keyboard.press('ArrowRight');
  await page.waitForURL(new RegExp(`[?&]view=${ids[1]}`));
  // The address changes before React has drawn the next asset (a transition), and all three have
  // one title: "Previous" coming alive says the viewer is on the second.
  await viewer.locator('.viewer-nav button:not([disabled])', { hasText: 'Previous' }).waitFor();
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
  await page.waitForFunction((id) => document.activeElement?.closest('li.tile')?.getAttribute('data-asset-id') === id, ids[1], { timeout: STEP_TIMEOUT_MS });

  // Collapsing puts focus back on the stack.
  await collapse.click();
  await stack.waitFor();
  await focusOn(page, `3 results: ${BATCH}`);

  // The toggle survives a reload; select mode takes the whole stack.
  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 2);
  assert.equal(await page.getByRole('checkbox', { name: 'Group batches' }).isChecked(), true);
  await page.getByRole('button', { name: 'Select', exact: true }).click();
  const selectStack = grid.getByRole('button', { name: `Select 3 results: ${BATCH}` });
  await selectStack.click();
  await page.getByTestId('selected-count').getByText('3 selected').waitFor();
  assert.equal(await selectStack.getAttribute('aria-pressed'), 'true');
  const href = (await page.getByRole('link', { name: 'Download selected' }).getAttribute('href')) ?? '';
  assert.deepEqual(new Set(new URL(href, page.url()).searchParams.get('ids')?.split(',')), new Set(ids));
  await a11y.check(page, 'gallery (grouped, stack selected)');

  // Off again: four tiles.
  await page.getByRole('button', { name: 'Done selecting' }).click();
  await page.getByRole('checkbox', { name: 'Group batches' }).uncheck();
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 4);
  assert.doesNotMatch(page.url(), /group=/);

  a11y.assertClean();
  assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
});
