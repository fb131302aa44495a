// Browser end-to-end test of a password-protected share link, opened as its visitor would: in a
// fresh signed-out Chromium context, whose no-referrer share page makes the form post with
// `Origin: null`. Wrong password → the same page says so; right password → the image shows and
// downloads. Real studio binary + fake fal + Chromium (see fixtures.mjs).
import assert from 'node:assert/strict';
import { generateByApi, signUpByApi, STEP_TIMEOUT_MS, test, uniqueEmail } from './fixtures.mjs';

const SHARE_PASSWORD = 'open sesame';

/** From a signed-in context's API client: one generation, and a password link to its image. */
async function passwordLink(request) {
  const [assetId] = await generateByApi(request, ['a lighthouse at dusk']);
  const response = await request.post(`/api/assets/${assetId}/shares`, { data: { password: SHARE_PASSWORD } });
  assert.ok(response.ok(), `POST shares: ${response.status()} ${await response.text()}`);
  return (await response.json()).url;
}

test('a password link opens in a signed-out browser with the right password only', async ({ page: ownerPage, consoleErrors: ownerErrors, openPage }) => {
  await signUpByApi(ownerPage.request, uniqueEmail());
  const url = await passwordLink(ownerPage.request);
  const { pathname } = new URL(url);

  // A fresh context: no session, no unlock cookie. The 401s are the wrong-password page itself.
  const visitor = await openPage({ [`401 ${pathname}`]: 'the wrong password' });
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
  assert.deepEqual(ownerErrors, []);
});
