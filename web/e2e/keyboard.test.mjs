// Browser end-to-end test of the main flows with the keyboard alone (Tab, Shift+Tab, Enter, Space,
// Escape, arrows; no mouse): sign in, skip to the content, pick a model, skip past the model list
// to the form, fill the prompt, generate,
// open the gallery, an actions menu, the viewer and the share dialog, and close them, with focus
// visible at every stop and put back where it was. Real studio binary + fake fal + Chromium
// (see fixtures.mjs), under the real CSP. Set-up that is not the flow (the account, the fal key)
// goes through the API.
// `document` and `getComputedStyle` below are only used in functions that run in the page.
/* global document, getComputedStyle */
import assert from 'node:assert/strict';
import { JOB_TIMEOUT_MS, PASSWORD, saveFalKey, screenshot, SEEDREAM_T2I, signUpByApi, test, uniqueEmail } from './fixtures.mjs';

test.use({ expectedFailures: { '401 /api/auth/me': 'signed out' } });

const PROMPT = 'a fox typed without a mouse';

/** The focused element: its accessible-ish name, role hints, and whether its focus ring shows. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (el === null || el === document.body) return { tag: 'body', name: '', ring: false, inDialog: false };
    const label = el.labels?.[0]?.textContent ?? null;
    const name = (el.getAttribute('aria-label') ?? label ?? el.textContent ?? '').replace(/\s+/g, ' ').trim();
    const style = getComputedStyle(el);
    const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== 'none';
    const box = el.getBoundingClientRect();
    return {
      tag: el.tagName.toLowerCase(),
      type: el.getAttribute('type'),
      className: el.className,
      name,
      ring,
      onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0,
      inDialog: el.closest('dialog[open]') !== null,
      dialog: el.closest('dialog[open]')?.getAttribute('aria-labelledby') ?? null,
    };
  });
}

/** Presses Tab (or Shift+Tab) until the focused element matches; fails after `max` presses. */
async function tabTo(page, matches, { back = false, max = 60, what = 'the target' } = {}) {
  const seen = [];
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const now = await focused(page);
    seen.push(`${now.tag}${now.name ? ` "${now.name.slice(0, 40)}"` : ''}`);
    if (matches(now)) {
      assert.ok(now.ring, `the focus ring shows on ${seen.at(-1)}`);
      return now;
    }
  }
  throw new Error(`${what} not reached in ${max} ${back ? 'Shift+Tab' : 'Tab'} presses; visited: ${seen.join(' → ')}`);
}

test('keyboard only: sign in, pick a model, generate, open and close the viewer', async ({ page, consoleErrors }) => {
  const email = uniqueEmail();
  // Set-up through the API: an account with a fal key, then signed out again.
  await signUpByApi(page.request, email);
  await saveFalKey(page.request);
  const out = await page.request.post('/api/auth/logout');
  assert.ok(out.ok(), `logout: ${out.status()}`);
  await page.goto('/login');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();

  // Sign in: Tab to Email, type, Tab to Password, type, Enter.
  await tabTo(page, (f) => f.tag === 'input' && f.name === 'Email', { what: 'the Email field' });
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).name, 'Password');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Studio', level: 1 }).waitFor();
  await page.getByTestId('live-state').getByText('Live').waitFor();

  // The first Tab shows "Skip to content"; Enter puts focus on the main content.
  await page.keyboard.press('Tab');
  const skip = await focused(page);
  assert.equal(skip.name, 'Skip to content');
  assert.ok(skip.onScreen, 'the skip link is on screen while focused');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main', 'focus moved to <main>');
  // The studio's own skip link comes next, before the model list's many stops.
  await page.keyboard.press('Tab');
  const skipToForm = await focused(page);
  assert.equal(skipToForm.name, 'Skip to the form');
  assert.ok(skipToForm.onScreen && skipToForm.ring, `the studio's skip link shows while focused: ${JSON.stringify(skipToForm)}`);

  // Pick a model: Tab to the search box, type, ↓ into the list, Enter.
  await tabTo(page, (f) => f.name === 'Search models', { what: 'the model search', max: 5 });
  await page.keyboard.type('seedream');
  const wanted = page.getByRole('list', { name: 'Models', exact: true }).getByRole('button', { name: /seedream\/v4\/text-to-image/ });
  await wanted.waitFor();
  await page.waitForFunction(() => document.querySelectorAll('.picker-scroll ul[aria-label="Models"] li').length <= 3);
  let model;
  // Under load the debounced search may re-render the list after a key press: try again
  // (bounded) until ↓ lands on the model rather than stay in the search box.
  for (let i = 0; i < 20; i += 1) {
    await page.keyboard.press('ArrowDown');
    model = await focused(page);
    if (model.name.includes(SEEDREAM_T2I)) break;
    if (model.name === 'Search models') await page.waitForTimeout(150);
  }
  assert.ok(model?.name.includes(SEEDREAM_T2I), `↓ reached the model: ${model?.name}`);
  assert.ok(model.ring, 'the focus ring shows on the model');
  await page.keyboard.press('Enter');
  await page.locator('.form-header code', { hasText: SEEDREAM_T2I }).waitFor();
  assert.ok((await focused(page)).name.includes(SEEDREAM_T2I), 'focus stays on the chosen model');

  // Back to "Skip to the form" (past the chips and the search box), Enter, and the prompt is a few
  // presses away, however long the model list. Then fill it and generate (Space on the button).
  await tabTo(page, (f) => f.name === 'Skip to the form', { back: true, what: 'Skip to the form', max: 25 });
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('studio-main')), true, 'focus moved to the form panel');
  await tabTo(page, (f) => f.tag === 'textarea' && f.name.startsWith('Prompt'), { what: 'the Prompt box', max: 5 });
  await page.keyboard.type(PROMPT);
  await tabTo(page, (f) => f.tag === 'button' && f.name === 'Generate', { what: 'Generate' });
  await page.keyboard.press('Space');
  const job = page.getByRole('region', { name: 'Queue' }).locator('li.job[data-status="completed"]').first();
  await job.waitFor({ timeout: JOB_TIMEOUT_MS });
  await screenshot(page, 'keyboard-studio.png');

  // Back up to the main navigation and open the gallery.
  await tabTo(page, (f) => f.tag === 'a' && f.name === 'Gallery', { back: true, what: 'the Gallery link', max: 80 });
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor();
  const tile = page.getByRole('list', { name: 'Assets' }).getByRole('button', { name: `Open ${PROMPT}` });
  await tile.waitFor();

  // An actions menu: Enter opens it, Escape closes it and focus returns to its button.
  await tabTo(page, (f) => f.name === `Actions for ${PROMPT}`, { what: 'the actions menu', max: 30 });
  const menuButton = page.getByRole('button', { name: `Actions for ${PROMPT}` });
  await page.keyboard.press('Enter');
  assert.equal(await menuButton.getAttribute('aria-expanded'), 'true', 'Enter opens the menu');
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).name, 'Download', 'Tab goes into the open menu');
  await page.keyboard.press('Escape');
  assert.equal(await menuButton.getAttribute('aria-expanded'), 'false', 'Escape closes the menu');
  assert.equal((await focused(page)).name, `Actions for ${PROMPT}`, 'focus is back on the menu button');

  // The viewer: Shift+Tab to the tile, Enter opens it with focus inside, Tab stays inside.
  await tabTo(page, (f) => f.name === `Open ${PROMPT}`, { back: true, what: 'the tile', max: 5 });
  await page.keyboard.press('Enter');
  const viewer = page.getByRole('dialog', { name: PROMPT });
  await viewer.getByTestId('asset-metadata').waitFor();
  const first = await focused(page);
  assert.ok(first.inDialog && first.ring, `focus is in the viewer, visibly: ${JSON.stringify(first)}`);
  for (let i = 0; i < 14; i += 1) {
    await page.keyboard.press('Tab');
    assert.ok((await focused(page)).inDialog, 'Tab stays inside the viewer');
  }
  await screenshot(page, 'keyboard-viewer.png');

  // Share…: the dialog focuses its first control; Escape closes it and focus returns to Share….
  await tabTo(page, (f) => f.name === 'Share…', { what: 'Share…', max: 20 });
  await page.keyboard.press('Enter');
  const share = page.getByRole('dialog', { name: 'Share image' });
  await share.waitFor();
  assert.equal((await focused(page)).name, 'Link expires', 'the share dialog focuses its first control');
  await page.keyboard.press('Escape');
  await share.waitFor({ state: 'detached' });
  assert.equal((await focused(page)).name, 'Share…', 'focus is back on Share…');

  // Escape closes the viewer; focus is back on the tile that opened it.
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
  // The tile may re-render as the dialog closes; focus must land on it by the next frame or so.
  let back = await focused(page);
  for (let i = 0; i < 20 && back.name !== `Open ${PROMPT}`; i += 1) {
    await page.waitForTimeout(50);
    back = await focused(page);
  }
  assert.equal(back.name, `Open ${PROMPT}`, 'focus is back on the tile');

  await screenshot(page, 'keyboard-last.png');
  assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
});
