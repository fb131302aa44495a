// Browser end-to-end test of the phone layout (390×844, touch): the studio with a model's form,
// the queue with a finished job, the gallery grid and viewer, and settings never scroll sideways,
// the navigation fits, and every control is at least 40×40 px. Real studio binary + fake fal +
// Chromium (see fixtures.mjs), under the real CSP.
// `document` and `getComputedStyle` below are only used in functions that run in the page.
/* global document, getComputedStyle */
import assert from 'node:assert/strict';
import { FAL_KEY, JOB_TIMEOUT_MS, screenshot, SEEDREAM_T2I, signUp, test, uniqueEmail } from './fixtures.mjs';

test.use({
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  expectedFailures: { '401 /api/auth/me': 'signed out' },
});

/** The smallest touch target accepted, in CSS pixels. */
const MIN_TARGET = 40;

/**
 * What is wrong with the layout now: sideways scrolling, and controls smaller than `min` px
 * (a visually hidden input is measured by its label; links inside running text are exempt, as
 * WCAG 2.5.8 exempts them).
 */
function layoutProblems(page, min) {
  // The phone's width, not `innerWidth`: a mobile browser widens its layout viewport to fit
  // content that overflows (innerWidth became 453 with a 453 px table), so comparing with it
  // hides exactly the sideways scrolling looked for.
  const screenWidth = page.viewportSize()?.width ?? 390;
  return page.evaluate(([min, screenWidth]) => {
    const problems = [];
    const width = document.documentElement.scrollWidth;
    if (width > screenWidth) {
      const wide = [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > screenWidth + 0.5)
        .filter((el) => !el.closest('.visually-hidden, .skip-link'))
        .slice(0, 5)
        .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} (right ${Math.round(el.getBoundingClientRect().right)})`);
      problems.push(`scrollWidth ${width} > the phone's ${screenWidth}: ${wide.join(', ')}`);
    }
    // With a modal dialog open, only its controls can be reached.
    const root = [...document.querySelectorAll('dialog[open]')].at(-1) ?? document;
    const controls = root.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])');
    for (const el of controls) {
      if (el.closest('[inert], .visually-hidden:not(input)')) continue;
      // Inside a closed <details> (not its summary): not shown.
      const details = el.closest('details');
      if (details !== null && !details.open && el.closest('summary') !== details.querySelector(':scope > summary')) continue;
      if (el.classList.contains('skip-link')) continue;
      const style = getComputedStyle(el);
      if (style.display === 'none' || style.visibility === 'hidden') continue;
      let box = el.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      if (el.tagName === 'A' && style.display === 'inline' && el.closest('p, li, dd, figcaption, span') !== null && !el.classList.contains('button')) continue;
      const label = el.labels?.[0];
      if ((box.width <= 1 || box.height <= 1 || el.type === 'checkbox' || el.type === 'radio') && label) box = label.getBoundingClientRect();
      if (box.width < min || box.height < min) {
        const name = (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40);
        const what = `${el.tagName.toLowerCase()}${el.type ? `[type=${el.type}]` : ''}${el.name ? `[name=${el.name}]` : ''}.${[...el.classList].join('.')}`;
        problems.push(`${what} "${name}": ${Math.round(box.width)}×${Math.round(box.height)}`);
      }
    }
    return problems;
  }, [min, screenWidth]);
}

test('phone: no sideways scrolling, a nav that fits, touch targets of 40 px', async ({ page, consoleErrors }) => {
  const problems = [];
  const check = async (label) => {
    for (const problem of await layoutProblems(page, MIN_TARGET)) problems.push(`[${label}] ${problem}`);
    await screenshot(page, `phone-${label.replace(/\W+/g, '-')}.png`);
  };
  await page.goto('/login');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await check('sign-in');
  await signUp(page, uniqueEmail());

  // The navigation is one row, under the brand: every link is on screen.
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const name of ['Studio', 'Gallery', 'Settings']) {
    const box = await nav.getByRole('link', { name }).boundingBox();
    assert.ok(box !== null && box.x >= 0 && box.x + box.width <= 390, `the ${name} link is on screen: ${JSON.stringify(box)}`);
  }

  // Settings without a key, then with one.
  await nav.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('region', { name: /^Spend, last 30 days/ }).getByText(/Total/).waitFor();
  await check('settings (no key)');
  await page.getByLabel('fal API key', { exact: true }).fill(FAL_KEY);
  await page.getByRole('button', { name: 'Save key' }).click();
  await page.getByTestId('credits-balance').waitFor();
  await check('settings (with key)');

  // Studio: a model's form; then a finished job in the queue.
  await nav.getByRole('link', { name: 'Studio' }).click();
  await page.getByRole('list', { name: 'Models', exact: true }).getByRole('listitem').first().waitFor();
  await check('studio (picker)');
  await page.getByRole('searchbox', { name: 'Search models' }).fill('seedream');
  await page
    .getByRole('list', { name: 'Models', exact: true })
    .getByRole('button', { name: new RegExp(`${SEEDREAM_T2I.replace(/[/.]/g, '\\$&')}(\\s|$)`) })
    .first()
    .click();
  await page.locator('.form-header code', { hasText: SEEDREAM_T2I }).waitFor();
  await page.locator('details.advanced > summary').click();
  await page.getByRole('textbox', { name: /^Prompt/ }).fill('a red fox on a phone');
  await check('studio (form)');
  await page.getByRole('button', { name: 'Generate' }).click();
  const done = page.getByRole('region', { name: 'Queue' }).locator('li.job[data-status="completed"]').first();
  await done.waitFor({ timeout: JOB_TIMEOUT_MS });
  await done.locator('img').evaluate((img) => img.decode());
  await done.scrollIntoViewIfNeeded();
  await check('studio (queue)');
  await page.getByRole('button', { name: 'Compare models' }).click();
  await check('studio (compare)');

  // Gallery: grid, an open actions menu, the viewer.
  await nav.getByRole('link', { name: 'Gallery' }).click();
  const grid = page.getByRole('list', { name: 'Assets' });
  await grid.getByRole('button', { name: 'Open a red fox on a phone' }).waitFor();
  await check('gallery (grid)');
  await grid.getByLabel('Actions for a red fox on a phone').click();
  await check('gallery (actions menu)');
  await grid.getByLabel('Actions for a red fox on a phone').click();
  await grid.getByRole('button', { name: 'Open a red fox on a phone' }).click();
  const viewer = page.getByRole('dialog', { name: 'a red fox on a phone' });
  await viewer.getByTestId('asset-metadata').getByText('Created').waitFor();
  await viewer.locator('img.viewer-media').evaluate((img) => img.decode());
  await check('gallery (viewer)');
  await viewer.getByRole('button', { name: 'Share…' }).click();
  await page.getByRole('dialog', { name: 'Share image' }).getByRole('button', { name: 'Create link' }).waitFor();
  await check('gallery (share dialog)');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');

  // Settings again, now with spend by model (a long endpoint id in a table once pushed the
  // page sideways).
  await nav.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('table', { name: 'Spend by model' }).getByText(SEEDREAM_T2I).waitFor();
  await check('settings (with spend)');

  assert.deepEqual(problems, [], `phone layout problems:\n${problems.join('\n')}`);
  await screenshot(page, 'phone-last.png');
  assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
});
