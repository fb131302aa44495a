// Browser end-to-end test of the studio's stage: Ctrl+Enter generates, the result shows large with
// its seed, a click opens the app's own viewer (never a raw file in a new tab), a reload brings the
// model and prompt back, and on a phone the form folds away and picking a model goes to it. Real
// studio binary + fake fal + Chromium (see fixtures.mjs).
/* global document, innerHeight, innerWidth, scrollTo */
import assert from 'node:assert/strict';
import { clickModel, JOB_TIMEOUT_MS, KONTEXT, saveFalKey, screenshot, SEEDREAM_T2I, signUp, STEP_TIMEOUT_MS, test, uniqueEmail } from './fixtures.mjs';

test.use({
  viewport: { width: 1280, height: 800 },
  expectedFailures: { '401 /api/auth/me': 'signed out before signing up' },
});

const PROMPT = 'a fox on the stage';

async function pickModel(page, search, endpointId) {
  await clickModel(page, search, endpointId);
  await page.locator('.form-header code', { hasText: endpointId }).waitFor();
}

test('the stage: Ctrl+Enter, a large result, the in-app viewer, the last model back, the phone form', async ({ page, consoleErrors }) => {
  await signUp(page, uniqueEmail());
  await saveFalKey(page.request);
  await page.reload();
  await page.getByTestId('live-state').getByText('Live').waitFor();
  const stage = page.getByRole('region', { name: 'Latest results' });
  await stage.getByText('Your results appear here').waitFor();

  // Ctrl+Enter from inside the prompt generates; the button says it does.
  await pickModel(page, 'seedream', SEEDREAM_T2I);
  const generate = page.getByRole('button', { name: 'Generate', exact: true });
  assert.equal(await generate.getAttribute('aria-keyshortcuts'), 'Control+Enter Meta+Enter');
  const prompt = page.getByRole('textbox', { name: /^Prompt/ });
  await prompt.fill(PROMPT);
  await prompt.press('Control+Enter');

  // The result, large on the stage, with its seed and size.
  const result = stage.getByRole('button', { name: /^Result of / });
  await result.waitFor({ timeout: JOB_TIMEOUT_MS });
  const image = result.getByRole('img');
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await image.elementHandle());
  const box = await image.boundingBox();
  assert.ok(box !== null && box.width >= 400, `the result is large at 1280 px: ${JSON.stringify(box)}`);
  const figure = stage.locator('figure.stage-result').first();
  assert.match(await figure.locator('[data-fact="seed"]').innerText(), /Seed\s+\d+/);
  assert.match(await figure.locator('[data-fact="size"]').innerText(), /Size\s+\d+ × \d+/);
  assert.equal(await stage.locator('a[href^="/files/"]').count(), 0, 'no raw file links on the stage');
  assert.equal(await page.getByRole('region', { name: 'Queue' }).locator('a[href^="/files/"]').count(), 0, 'none in the queue either');
  await screenshot(page, 'stage-1280.png');

  // A click opens the app's viewer in place: no new tab, the same address.
  const before = page.url();
  await result.click();
  const viewer = page.getByRole('dialog', { name: PROMPT });
  await viewer.getByTestId('asset-metadata').getByText('Seed', { exact: true }).waitFor();
  for (const name of ['Remix', 'Use as reference']) await viewer.getByRole('link', { name, exact: true }).waitFor();
  for (const name of ['Share…', 'Delete…']) await viewer.getByRole('button', { name, exact: true }).waitFor();
  await viewer.getByRole('link', { name: 'Download', exact: true }).waitFor();
  assert.equal(page.context().pages().length, 1, 'no new tab');
  assert.equal(page.url(), before, 'still on the studio');
  await screenshot(page, 'stage-viewer.png');
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
  await page.waitForFunction(() => document.activeElement?.classList.contains('stage-open') === true, null, { timeout: STEP_TIMEOUT_MS });

  // The viewer's Remix leads to this same page: the viewer closes and the form takes the remix.
  await result.click();
  await viewer.getByRole('link', { name: 'Remix', exact: true }).click();
  await viewer.waitFor({ state: 'detached' });
  await page.waitForURL((url) => !url.searchParams.has('remix'));
  await page.locator('.form-header code', { hasText: SEEDREAM_T2I }).waitFor();
  assert.equal(await page.getByRole('textbox', { name: /^Prompt/ }).inputValue(), PROMPT);

  // The next visit starts with the same model and prompt: after a reload, and from a bare /studio.
  await page.reload();
  await page.locator('.form-header code', { hasText: SEEDREAM_T2I }).waitFor();
  assert.equal(await page.getByRole('textbox', { name: /^Prompt/ }).inputValue(), PROMPT);
  await page.goto('/studio');
  await page.locator('.form-header code', { hasText: SEEDREAM_T2I }).waitFor();
  assert.equal(await page.getByRole('textbox', { name: /^Prompt/ }).inputValue(), PROMPT);

  // A phone: the form folds away behind its toggle, and picking a model opens it and goes there.
  await page.setViewportSize({ width: 390, height: 844 });
  const toggle = page.getByRole('button', { name: 'Hide the form' });
  await toggle.waitFor();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await toggle.click();
  const show = page.getByRole('button', { name: 'Show the form' });
  assert.equal(await show.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.getByRole('textbox', { name: /^Prompt/ }).isVisible(), false, 'the folded form is hidden');
  await stage.locator('figure.stage-result').first().waitFor();
  await screenshot(page, 'stage-390-folded.png');

  await page.evaluate(() => scrollTo(0, 0));
  // Let the search settle first: a list that shrinks after the click would move the form away.
  await page.getByRole('searchbox', { name: 'Search models' }).fill('kontext');
  await page.waitForFunction(() => document.querySelectorAll('.picker-scroll ul[aria-label="Models"] li').length <= 3);
  await clickModel(page, 'kontext', KONTEXT);
  await page.locator('.form-header code', { hasText: KONTEXT }).waitFor();
  await page.getByRole('button', { name: 'Hide the form' }).waitFor();
  // The prompt came along to the new model.
  assert.equal(await page.getByRole('textbox', { name: /^Prompt/ }).inputValue(), PROMPT);
  // Smooth scrolling takes a moment: the form's top reaches the top of the screen.
  await page.waitForFunction(
    () => {
      const top = document.querySelector('.studio-main')?.getBoundingClientRect().top;
      return top !== undefined && Math.abs(top) < 60;
    },
    null,
    { timeout: STEP_TIMEOUT_MS },
  );
  await screenshot(page, 'stage-390-form.png');

  assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
});

test('the stage at 900 px: beside the form, the result in view after Generate, no sideways scrolling', async ({ page, consoleErrors }) => {
  await page.setViewportSize({ width: 900, height: 800 });
  await signUp(page, uniqueEmail());
  await saveFalKey(page.request);
  await page.reload();
  await page.getByTestId('live-state').getByText('Live').waitFor();
  const stage = page.getByRole('region', { name: 'Latest results' });
  await stage.getByText('Your results appear here').waitFor();

  await pickModel(page, 'seedream', SEEDREAM_T2I);
  await page.getByRole('textbox', { name: /^Prompt/ }).fill(PROMPT);
  // A click, as a user would: Playwright scrolls the button into view first, wherever it is.
  await page.getByRole('button', { name: 'Generate', exact: true }).click();

  const image = stage.locator('figure.stage-result').first().getByRole('img');
  await image.waitFor({ timeout: JOB_TIMEOUT_MS });
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await image.elementHandle());
  // Measured where the page is now: nobody scrolls to the result.
  const [box, viewport] = await Promise.all([image.boundingBox(), page.evaluate(() => ({ width: innerWidth, height: innerHeight }))]);
  assert.ok(box !== null, 'the result has a box');
  assert.ok(
    box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height,
    `the result is in view without scrolling at 900 px: ${JSON.stringify(box)} in ${JSON.stringify(viewport)}`,
  );
  // Beside the form, not under it.
  const form = await page.locator('.studio-main').boundingBox();
  assert.ok(form !== null && box.x >= form.x + form.width, `the stage is right of the form: ${JSON.stringify({ box, form })}`);
  const [scrollWidth, innerW] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
  assert.ok(scrollWidth <= innerW, `no sideways scrolling at 900 px (${scrollWidth} > ${innerW})`);
  await screenshot(page, 'stage-900.png');

  assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
});
