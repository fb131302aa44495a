// Browser end-to-end test of generating: the queue (queued → running → completed with our own
// /files/ URLs), a video result, cancelling, a policy failure, and Compare mode. Real studio
// binary + fake fal + Chromium (see fixtures.mjs). The fake fal runs a job in about half a second;
// prompts script it (`[fal:never]` never finishes, `[fal:policy]` is refused by its checker).
import assert from 'node:assert/strict';
import {
  clickModel,
  FAL_KEY,
  JOB_TIMEOUT_MS,
  KONTEXT,
  screenshot,
  SEEDREAM_T2I,
  signUp,
  STEP_TIMEOUT_MS,
  test,
  TINY_PNG,
  uniqueEmail,
  VEO3,
} from './fixtures.mjs';

test.use({
  expectedFailures: {
    '401 /api/auth/me': 'signed out before signing up',
    // Should the server refuse `[fal:policy]` at intake rather than failing the job:
    '403 /api/generations': 'the policy prompt, refused at intake',
    '422 /api/generations': 'the policy prompt, refused at intake',
  },
});

async function pickModel(page, search, endpointId) {
  await clickModel(page, search, endpointId);
  await page.locator('.form-header code', { hasText: endpointId }).waitFor();
  assert.equal(await page.locator('.form-header code').innerText(), endpointId);
}

const queue = (page) => page.getByRole('region', { name: 'Queue' });

async function jobIds(page) {
  return queue(page).locator('li.job[data-job-id]').evaluateAll((items) => items.map((li) => li.dataset.jobId));
}

/**
 * Runs `act` (a click on Generate), then waits for the job it created to enter the queue, and
 * returns its item and the statuses it was seen in (sampled every 50 ms until `until`).
 */
async function startJob(page, act) {
  const before = new Set(await jobIds(page));
  await act();
  let id;
  await page.waitForFunction(
    (known) =>
      // eslint-disable-next-line no-undef -- runs in the page
      [...document.querySelectorAll('.queue li.job[data-job-id]')].some((li) => !known.includes(li.dataset.jobId)),
    [...before],
    { timeout: STEP_TIMEOUT_MS },
  );
  for (const candidate of await jobIds(page)) if (!before.has(candidate)) id = candidate;
  assert.ok(id, 'a new job appeared in the queue');
  return queue(page).locator(`li.job[data-job-id="${id}"]`);
}

/** Waits for the job to reach `status`, recording every status it showed on the way. */
async function watchUntil(item, status) {
  const seen = [];
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  for (;;) {
    const now = await item.getAttribute('data-status');
    if (seen.at(-1) !== now) seen.push(now);
    if (now === status) return seen;
    if (['completed', 'failed', 'cancelled'].includes(now)) {
      throw new Error(`job ended ${now} (seen: ${seen.join(' → ')}): ${await item.innerText()}`);
    }
    if (Date.now() > deadline) throw new Error(`job still ${now} after ${JOB_TIMEOUT_MS} ms (seen: ${seen.join(' → ')})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('generate through the queue, watch videos, cancel, compare, and see a policy failure', async ({ page, consoleErrors }) => {
  await signUp(page, uniqueEmail());

  // The fake fal accepts any key without `invalid` in it.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('fal API key').fill(FAL_KEY);
  await page.getByRole('button', { name: 'Save key' }).click();
  await page.getByTestId('fal-key-status').getByText('A fal key is saved.').waitFor();
  await page.getByRole('region', { name: /^Spend, last 30 days/ }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Studio' }).click();
  await page.getByRole('heading', { name: 'Studio', level: 1 }).waitFor();
  await page.getByTestId('live-state').getByText('Live').waitFor();

  // 1. An image: queued/running → completed, with a thumbnail from our own /files/ URL.
  await pickModel(page, 'seedream', SEEDREAM_T2I);
  await page.getByRole('textbox', { name: /^Prompt/ }).fill('a red fox');
  const generate = page.getByRole('button', { name: 'Generate' });
  const fox = await startJob(page, () => generate.click());
  const seen = await watchUntil(fox, 'completed');
  assert.ok(seen.length >= 2, `the job was seen before it completed (seen: ${seen.join(' → ')})`);
  const thumbnail = fox.getByRole('img');
  assert.match((await thumbnail.getAttribute('src')) ?? '', /^\/files\//);
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await thumbnail.elementHandle());
  // It opens in the app's viewer, never as a raw file in a new tab.
  assert.equal(await fox.locator('a[href^="/files/"]').count(), 0);
  await fox.getByRole('button', { name: /^Result 1 of / }).waitFor();
  await screenshot(page, 'generate-image.png');

  // 2. A video: a <video> for it, from /files/ too.
  await pickModel(page, 'veo3', VEO3);
  await page.getByRole('textbox', { name: /^Prompt/ }).fill('a red fox running in the snow');
  const clip = await startJob(page, () => page.getByRole('button', { name: 'Generate' }).click());
  await watchUntil(clip, 'completed');
  const video = clip.locator('video');
  assert.match((await video.getAttribute('src')) ?? '', /^\/files\//);
  assert.equal(await video.getAttribute('preload'), 'metadata');
  assert.equal(await video.evaluate((v) => v.controls), true);
  await screenshot(page, 'generate-video.png');

  // 3. A job that never finishes: cancel it.
  await pickModel(page, 'seedream', SEEDREAM_T2I);
  await page.getByRole('textbox', { name: /^Prompt/ }).fill('a slow one [fal:never]');
  const slow = await startJob(page, () => page.getByRole('button', { name: 'Generate' }).click());
  await slow.getByRole('button', { name: 'Cancel' }).click();
  await watchUntil(slow, 'cancelled');
  assert.equal(await slow.getByTestId('job-status').innerText(), 'Cancelled');

  // 4. A policy failure: its category as a badge and a readable message.
  await page.getByRole('textbox', { name: /^Prompt/ }).fill('bad [fal:policy]');
  await page.getByRole('button', { name: 'Generate' }).click();
  const failure = queue(page).locator('li.job[data-status="failed"], li.job[data-status="refused"]').first();
  await failure.waitFor({ timeout: JOB_TIMEOUT_MS });
  assert.equal(await failure.getByTestId('error-category').innerText(), 'Blocked by the content checker');
  const message = await failure.locator('.job-error').innerText();
  assert.ok(message.trim().length > 3, 'a message is shown');
  assert.doesNotMatch(message, /\[object Object\]|^\s*\{/, 'the message is readable text');
  await screenshot(page, 'generate-failed.png');

  // 5. Compare seedream (its form) and kontext (needs a reference image): two columns, both complete.
  await page.getByRole('button', { name: 'Compare models' }).click();
  await clickModel(page, 'kontext', KONTEXT);
  const form = page.getByRole('form', { name: 'Compare settings' });
  await form.waitFor();
  await form.getByRole('textbox', { name: /^Prompt/ }).fill('a red fox in a field');
  const references = page.getByRole('region', { name: /^References/ });
  await references.locator('input[type=file]').setInputFiles({ name: 'tiny.png', mimeType: 'image/png', buffer: TINY_PNG });
  await references.getByText('tiny.png').waitFor();
  await form.getByRole('button', { name: 'Compare 2 models' }).click();
  const results = page.getByRole('region', { name: 'Compare results' });
  await results.getByRole('heading', { name: 'Compare: a red fox in a field' }).waitFor();
  const columns = results.locator('.compare-column');
  assert.equal(await columns.count(), 2);
  for (const endpoint of [SEEDREAM_T2I, KONTEXT]) {
    const column = results.locator(`.compare-column[data-endpoint="${endpoint}"]`);
    await column.getByTestId('job-status').getByText('Completed').waitFor({ timeout: JOB_TIMEOUT_MS });
    assert.match((await column.getByRole('img').first().getAttribute('src')) ?? '', /^\/files\//);
  }
  // Both runs are one group in the queue, under the compare label.
  const group = queue(page).getByRole('region', { name: 'Compare: a red fox in a field' });
  await group.waitFor();
  assert.equal(await group.locator('li.job').count(), 2, 'one group holds both compare jobs');
  await screenshot(page, 'generate-compare.png');

  // A reload rebuilds the queue from the server.
  const foxId = await fox.getAttribute('data-job-id');
  await page.reload();
  await queue(page).getByRole('region', { name: 'Compare: a red fox in a field' }).waitFor();
  const listed = await jobIds(page);
  assert.ok(listed.includes(foxId), 'the first job is listed again after a reload');
  assert.equal(await queue(page).locator(`li.job[data-job-id="${foxId}"]`).getAttribute('data-status'), 'completed');

  await screenshot(page, 'generate-flow.png');
  assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
});
