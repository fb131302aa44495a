// Browser end-to-end test of a gallery tile's "⋯" menu: at 1280×800 and on a phone (390×844),
// for a tile at the top of the window and one at its bottom edge, the menu's "Delete…" is wholly
// inside the window, nothing covers or clips it (the tile used to cut it off), and a click on it
// asks for confirmation; Escape closes the menu and puts focus back on its button.
// Real studio binary + fake fal + Chromium (see fixtures.mjs), under the real CSP.
// `document` and `window` below are only used in functions that run in the page.
/* global document, window */
import assert from 'node:assert/strict';
import { generateByApi, screenshot, STEP_TIMEOUT_MS, test } from './fixtures.mjs';

const SIZES = [
  ['desktop', { width: 1280, height: 800 }],
  ['phone', { width: 390, height: 844 }],
];
/** 3 jobs × 6 images: enough rows that a tile can sit at the bottom edge of either window. */
const PROMPTS = ['a menu fox', 'a menu owl', 'a menu hare'];
const ASSETS = PROMPTS.length * 6;

/** Whether the element is inside the window, and its corners and centre are itself on screen. */
function wholeAndOnTop(element) {
  const box = element.getBoundingClientRect();
  const inside =
    box.left >= 0 && box.top >= 0 && box.right <= document.documentElement.clientWidth && box.bottom <= document.documentElement.clientHeight;
  // 4 px in from each corner: inside the menu's rounded corners.
  const points = [
    [box.left + 4, box.top + 4],
    [box.right - 4, box.top + 4],
    [box.left + 4, box.bottom - 4],
    [box.right - 4, box.bottom - 4],
    [box.left + box.width / 2, box.top + box.height / 2],
  ];
  const hits = points.map(([x, y]) => {
    const at = document.elementFromPoint(x, y);
    return at !== null && (at === element || element.contains(at));
  });
  return { inside, onTop: hits.every(Boolean), box: { left: box.left, top: box.top, right: box.right, bottom: box.bottom } };
}

test('the tile menu is never clipped: "Delete…" is whole and clickable at 1280×800 and on a phone', async ({ page, account, consoleErrors }) => {
  assert.ok(account.email, 'signed in through the API');
  await generateByApi(page.request, PROMPTS, { num_images: 6 });

  for (const [name, size] of SIZES) {
    await page.setViewportSize(size);
    await page.goto('/gallery');
    await page.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor();
    await page.waitForFunction((count) => document.querySelectorAll('li.tile').length === count, ASSETS, { timeout: STEP_TIMEOUT_MS });
    const tiles = page.getByRole('list', { name: 'Assets' }).locator('li.tile');

    for (const where of ['top', 'bottom edge']) {
      const tile = where === 'top' ? tiles.first() : tiles.last();
      if (where === 'bottom edge') {
        // The last tile's top 60 px above the window's bottom: no room for the menu below it.
        await tile.evaluate((el) => window.scrollBy(0, el.getBoundingClientRect().top - (window.innerHeight - 60)));
        const top = await tile.evaluate((el) => el.getBoundingClientRect().top);
        assert.ok(top > size.height - 80 && top < size.height - 40, `${name}: the tile sits at the bottom edge (top ${top})`);
      } else {
        await page.evaluate(() => window.scrollTo(0, 0));
      }
      const button = tile.getByRole('button', { name: /^Actions for / });
      await button.click();
      assert.equal(await button.getAttribute('aria-expanded'), 'true', `${name}, ${where}: the menu is open`);
      const menu = page.locator('.tile-menu-items');
      const remove = menu.getByRole('button', { name: 'Delete…' });
      await remove.waitFor();
      const seen = await remove.evaluate(wholeAndOnTop);
      assert.ok(seen.inside, `${name}, ${where}: "Delete…" is inside the window: ${JSON.stringify(seen.box)} in ${size.width}×${size.height}`);
      assert.ok(seen.onTop, `${name}, ${where}: nothing covers or clips "Delete…": ${JSON.stringify(seen.box)}`);
      if (where === 'bottom edge') {
        assert.equal(await menu.getAttribute('data-side'), 'above', `${name}: at the bottom edge the menu opens above its button`);
      }
      const menuBox = await menu.evaluate(wholeAndOnTop);
      assert.ok(menuBox.inside, `${name}, ${where}: the whole menu is inside the window: ${JSON.stringify(menuBox.box)}`);
      await screenshot(page, `gallery-menu-${name}-${where.replace(' ', '-')}.png`);

      // It is reachable: a real click on it asks before deleting.
      await remove.click();
      const confirm = page.getByRole('dialog', { name: 'Delete this item?' });
      await confirm.waitFor();
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      await confirm.waitFor({ state: 'detached' });
      await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label')?.startsWith('Actions for ') === true);

      // Escape closes it and focus is back on its button.
      await page.keyboard.press('Enter');
      await menu.waitFor();
      await page.keyboard.press('Escape');
      await menu.waitFor({ state: 'detached' });
      assert.equal(await button.getAttribute('aria-expanded'), 'false', `${name}, ${where}: Escape closes the menu`);
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), await button.getAttribute('aria-label'));
    }
  }
  assert.equal(await page.locator('li.tile').count(), ASSETS, 'nothing was deleted');
  assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
});
