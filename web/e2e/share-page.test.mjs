// The public share page keeps a picture's shape: at a laptop size the picture is held to the
// viewport's height and must shrink in both directions, not be squashed (the width attribute,
// kept for layout before the picture loads, once won over the height limit). On a phone it is
// held by the width. Real studio binary + fake fal + Chromium (see fixtures.mjs).
import assert from 'node:assert/strict';
import { generateByApi, signUpByApi, STEP_TIMEOUT_MS, test, uniqueEmail } from './fixtures.mjs';

for (const [name, viewport] of [
  ['a laptop', { width: 1280, height: 800 }],
  ['a phone', { width: 390, height: 844 }],
]) {
  test(`a shared square picture stays square on ${name}`, async ({ page: ownerPage, openPage }) => {
    await signUpByApi(ownerPage.request, uniqueEmail());
    const [assetId] = await generateByApi(ownerPage.request, ['a round moon'], { image_size: 'square_hd' });
    const response = await ownerPage.request.post(`/api/assets/${assetId}/shares`, { data: {} });
    assert.ok(response.ok(), `POST shares: ${response.status()} ${await response.text()}`);
    const { pathname } = new URL((await response.json()).url);

    const { page, consoleErrors } = await openPage({}, { viewport });
    await page.goto(pathname);
    const image = page.locator('figure.media img');
    await image.waitFor();
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await image.elementHandle(), {
      timeout: STEP_TIMEOUT_MS,
    });
    const shape = await image.evaluate((img) => ({
      shown: img.getBoundingClientRect().width / img.getBoundingClientRect().height,
      natural: img.naturalWidth / img.naturalHeight,
      height: img.getBoundingClientRect().height,
    }));
    assert.ok(Math.abs(shape.shown - shape.natural) < 0.02, `shown ${shape.shown}, natural ${shape.natural}`);
    assert.ok(shape.height <= viewport.height * 0.8 + 1, `taller than 80 % of the window: ${shape.height}`);
    assert.deepEqual(consoleErrors, []);
  });
}
