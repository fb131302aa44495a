// Browser end-to-end test of a password-protected share link, opened as its visitor would: in a
// fresh signed-out Chromium context, whose no-referrer share page makes the form post with
// `Origin: null`. Wrong password → the same page says so; right password → the image shows and
// downloads. Real studio binary + fake fal + Chromium (see harness.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateByApi, screenshot, signUpByApi, STEP_TIMEOUT_MS, uniqueEmail, useStack } from './harness.mjs';

const stack = useStack();

const SHARE_PASSWORD = 'open sesame';

/** From a signed-in page: one generation, and a password link to its image. */
async function passwordLink(page) {
  const [assetId] = await generateByApi(page, ['a lighthouse at dusk']);
  return page.evaluate(
    async ({ assetId, password }) => {
      const path = `/api/assets/${assetId}/shares`;
      const response = await fetch(path, {
        method: 'POST',
        credentials: 'include',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ password }),
      });
      if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()).url;
    },
    { assetId, password: SHARE_PASSWORD },
  );
}

test('a password link opens in a signed-out browser with the right password only', async () => {
  const owner = await stack.openPage([{ status: 401, path: '/api/auth/me' }]);
  let visitor;
  try {
    await owner.page.goto('/login');
    await signUpByApi(owner.page, uniqueEmail());
    const url = await passwordLink(owner.page);
    const { pathname } = new URL(url);

    // A fresh context: no session, no unlock cookie. The 401s are the wrong-password page itself.
    visitor = await stack.openPage([{ status: 401, path: pathname }]);
    const { page } = visitor;
    const shown = await page.goto(pathname);
    assert.equal(shown?.headers()['referrer-policy'], 'no-referrer');
    await page.getByRole('heading', { name: 'This link is protected' }).waitFor();

    // Wrong password: the same page, saying so (not a JSON error).
    const origins = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') origins.push(request.headers()['origin']);
    });
    await page.getByLabel('Password').fill('not it');
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByRole('alert').filter({ hasText: 'That password is not right' }).waitFor();
    await page.getByRole('heading', { name: 'This link is protected' }).waitFor();
    assert.equal(origins[0], 'null', 'the browser hid its origin, as the page asks');

    // Right password: the image, and a download that works.
    await page.getByLabel('Password').fill(SHARE_PASSWORD);
    await page.getByRole('button', { name: 'Open' }).click();
    const image = page.locator('figure.media img');
    await image.waitFor();
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await image.elementHandle(), {
      timeout: STEP_TIMEOUT_MS,
    });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download' }).click(),
    ]);
    const saved = await download.path();
    assert.ok(saved, 'the file downloaded');
    assert.deepEqual(visitor.consoleErrors, []);
    assert.deepEqual(owner.consoleErrors, []);
  } catch (error) {
    if (visitor) await screenshot(visitor.page, 'share-password-failure.png');
    throw error;
  } finally {
    await visitor?.context.close();
    await owner.context.close();
  }
});
