// Browser end-to-end test of stars in the gallery: three generations; one starred from its tile
// (shown on hover, then always), one from the viewer; the "Starred" filter shows exactly those
// two; one unstarred leaves the filtered list (focus goes to the star now in its place); a
// reload keeps the filter and the stars; then axe audits what stars add (a starred tile, the
// filter on, nothing starred yet, the selection's Star buttons, the viewer's Unstar). Real studio
// binary + fake fal + Chromium (fixtures.mjs).
// `document` and `getComputedStyle` below are only used in functions that run in the page.
/* global document, getComputedStyle */
import assert from 'node:assert/strict';
import { createAuditor, generateByApi, screenshot, signUpByApi, STEP_TIMEOUT_MS, test, uniqueEmail } from './fixtures.mjs';

/** The ids of the tiles on screen, in the grid's order. */
const shownIds = (page) => page.locator('li.tile').evaluateAll((items) => items.map((li) => li.dataset.assetId));

/** Waits for the PUT or DELETE of one asset's star and checks the server took it. */
function starSaved(page, id, method) {
  return page.waitForResponse(
    (response) => new URL(response.url()).pathname === `/api/assets/${id}/star` && response.request().method() === method,
  );
}

test('star from a tile and from the viewer, filter to starred, unstar, reload', async ({ page, account, consoleErrors }) => {
  assert.ok(account.email, 'signed in through the API');
  const [foxId, whaleId, owlId] = await generateByApi(page.request, ['a red fox', 'a blue whale', 'an owl']);
  assert.ok(foxId && whaleId && owlId, 'three generations stored an asset each');

  await page.goto('/gallery');
  await page.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor();
  const grid = page.getByRole('list', { name: 'Assets' });
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 3);
  assert.deepEqual(await shownIds(page), [owlId, whaleId, foxId], 'newest first');
  await page.waitForFunction(() => [...document.querySelectorAll('li.tile img')].every((img) => img.complete && img.naturalWidth > 0));

  const foxTile = grid.locator(`li.tile[data-asset-id="${foxId}"]`);
  const foxStar = foxTile.getByRole('button', { name: 'Star a red fox' });
  const opacity = (locator) => locator.evaluate((element) => getComputedStyle(element).opacity);

  // Not starred: the star is there on hover and focus only, like the "⋯" menu.
  await page.mouse.move(0, 0);
  assert.equal(await opacity(foxStar), '0', 'hidden until hover');
  await foxTile.hover();
  assert.equal(await opacity(foxStar), '1', 'shown on hover');
  assert.equal(await foxStar.getAttribute('aria-pressed'), 'false');

  // Star it from its tile: pressed at once, saved, and the viewer stays shut.
  const foxSaved = starSaved(page, foxId, 'PUT');
  await foxStar.click();
  const foxUnstar = foxTile.getByRole('button', { name: 'Unstar a red fox' });
  assert.equal(await foxUnstar.getAttribute('aria-pressed'), 'true');
  assert.equal((await foxSaved).status(), 200);
  assert.equal(await page.getByRole('dialog').count(), 0, 'the star does not open the viewer');
  assert.doesNotMatch(page.url(), /view=/);
  assert.equal(await foxUnstar.textContent(), '★');
  // Starred: shown without hover too.
  await page.mouse.move(0, 0);
  assert.equal(await opacity(foxUnstar), '1', 'a starred tile shows its star always');
  await screenshot(page, 'stars-grid.png');

  // Star the whale from the viewer.
  await grid.getByRole('button', { name: 'Open a blue whale' }).click();
  const viewer = page.getByRole('dialog', { name: 'a blue whale' });
  await viewer.getByTestId('asset-metadata').waitFor();
  const whaleSaved = starSaved(page, whaleId, 'PUT');
  await viewer.getByRole('button', { name: 'Star', exact: true }).click();
  const viewerUnstar = viewer.getByRole('button', { name: 'Unstar', exact: true });
  assert.equal(await viewerUnstar.getAttribute('aria-pressed'), 'true');
  assert.equal((await whaleSaved).status(), 200);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), '★ Unstar', 'focus stays on the button');
  await screenshot(page, 'stars-viewer.png');
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
  assert.equal(await grid.getByRole('button', { name: 'Unstar a blue whale' }).getAttribute('aria-pressed'), 'true');

  // The "Starred" filter: in the URL, exactly those two.
  const toggle = page.getByRole('search', { name: 'Filter the gallery' }).getByRole('button', { name: 'Starred' });
  await toggle.click();
  await page.waitForURL(/[?&]starred=1/);
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 2, null, { timeout: STEP_TIMEOUT_MS });
  assert.deepEqual(await shownIds(page), [whaleId, foxId]);
  await screenshot(page, 'stars-filter.png');

  // Unstar the fox there: it leaves the list, and focus goes to the star now in its place.
  const foxGone = starSaved(page, foxId, 'DELETE');
  await grid.getByRole('button', { name: 'Unstar a red fox' }).click();
  assert.equal((await foxGone).status(), 200);
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 1, null, { timeout: STEP_TIMEOUT_MS });
  assert.deepEqual(await shownIds(page), [whaleId]);
  await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Unstar a blue whale');

  // A reload keeps the filter and the stars.
  await page.reload();
  await page.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 1, null, { timeout: STEP_TIMEOUT_MS });
  assert.match(page.url(), /[?&]starred=1/);
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  assert.deepEqual(await shownIds(page), [whaleId]);
  assert.equal(await grid.getByRole('button', { name: 'Unstar a blue whale' }).getAttribute('aria-pressed'), 'true');

  // Off again: all three, the fox and the owl not starred.
  await toggle.click();
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 3, null, { timeout: STEP_TIMEOUT_MS });
  assert.doesNotMatch(page.url(), /starred=/);
  assert.equal(await grid.getByRole('button', { name: 'Star a red fox' }).getAttribute('aria-pressed'), 'false');
  assert.equal(await grid.getByRole('button', { name: 'Star an owl' }).getAttribute('aria-pressed'), 'false');

  assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
});

test('stars pass axe (WCAG 2 A/AA) in light and dark', async ({ openPage }) => {
  // The audit injects axe as an inline script, which the app's CSP refuses: this page only is
  // opened without it (see createAuditor).
  const { page, consoleErrors } = await openPage({}, { bypassCSP: true });
  await signUpByApi(page.request, uniqueEmail());
  const [foxId] = await generateByApi(page.request, ['a red fox', 'a blue whale']);
  const a11y = createAuditor();
  const grid = page.getByRole('list', { name: 'Assets' });

  // Nothing starred yet, the filter on.
  await page.goto('/gallery?starred=1');
  await page.getByTestId('gallery-no-starred').waitFor();
  await a11y.check(page, 'gallery (no starred items yet)');

  // One starred tile, the filter off, a tile's star focused.
  const saved = page.waitForResponse((response) => new URL(response.url()).pathname === `/api/assets/${foxId}/star`);
  await page.getByRole('button', { name: 'Starred' }).click();
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 2, null, { timeout: STEP_TIMEOUT_MS });
  await grid.getByRole('button', { name: 'Star a red fox' }).click();
  await saved;
  await grid.getByRole('button', { name: 'Star a blue whale' }).focus();
  await a11y.check(page, 'gallery (a starred tile)');

  // The filter on: one tile.
  await page.getByRole('button', { name: 'Starred' }).click();
  await page.waitForFunction(() => document.querySelectorAll('li.tile').length === 1, null, { timeout: STEP_TIMEOUT_MS });
  await a11y.check(page, 'gallery (starred filter)');

  // The selection's Star and Unstar.
  await page.getByRole('button', { name: 'Select', exact: true }).click();
  await page.getByRole('button', { name: 'Select all loaded' }).click();
  await page.getByRole('button', { name: 'Star selected', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Starred 1 item.' }).waitFor();
  await a11y.check(page, 'gallery (selection starred)');
  await page.getByRole('button', { name: 'Done selecting' }).click();

  // The viewer of a starred item.
  await grid.getByRole('button', { name: 'Open a red fox' }).click();
  const viewer = page.getByRole('dialog', { name: 'a red fox' });
  await viewer.getByTestId('asset-metadata').waitFor();
  await viewer.getByRole('button', { name: 'Unstar', exact: true }).waitFor();
  await a11y.check(page, 'gallery (viewer, starred)');

  a11y.assertClean();
  assert.ok(a11y.pages >= 5, 'every state was audited');
  assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
});
