// Browser end-to-end test of remix: a Kontext run with an uploaded reference, remixed from the
// gallery with the same seed (the reference back in its bucket, sent again by id, the seed in the
// form), a cancelled job run again from the queue, and the request the studio sent to fal.
// Real studio binary + fake fal + Chromium (see fixtures.mjs).
// `document` below is only used in functions that run in the page.
/* global document */
import assert from 'node:assert/strict';
import { JOB_TIMEOUT_MS, KONTEXT, saveFalKey, screenshot, test, TINY_PNG } from './fixtures.mjs';

/** The fake fal's seed for every image it makes. */
const FAKE_SEED = 1234;

async function ok(response) {
  if (!response.ok()) throw new Error(`${response.url()}: ${response.status()} ${await response.text()}`);
  return response.json();
}

/** A Kontext generation with `tiny.png` uploaded as its reference, through the API (as the form sends it). */
async function generateWithReference(request, prompt) {
  const { job } = await ok(
    await request.post('/api/generations', {
      multipart: {
        endpoint: KONTEXT,
        params: JSON.stringify({ prompt }),
        generalReferences: { name: 'tiny.png', mimeType: 'image/png', buffer: TINY_PNG },
      },
    }),
  );
  return job;
}

/** Polls `GET /api/jobs/<id>` until the job reaches one of `statuses`. */
async function waitForJob(request, id, statuses) {
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  for (;;) {
    const { job } = await ok(await request.get(`/api/jobs/${id}`));
    if (statuses.includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Clicks `button` and resolves with the job `POST /api/generations` created. */
async function submitted(page, click) {
  const answer = page.waitForResponse((response) => response.url().endsWith('/api/generations') && response.request().method() === 'POST');
  await click();
  const response = await answer;
  assert.equal(response.status(), 202, await response.text());
  return { job: (await response.json()).job, body: response.request().postData() ?? '' };
}

test('remix brings back the reference and the seed, a cancelled job runs again, the request shows', async ({ page, account, consoleErrors }) => {
  assert.ok(account.email, 'signed in through the API');
  await saveFalKey(page.request);
  const original = await waitForJob(page.request, (await generateWithReference(page.request, 'a fox to remix')).id, ['completed']);
  assert.equal(original.references.length, 1);
  assert.equal(original.assets[0].seed, FAKE_SEED, 'the fake fal answers with a seed');

  // 1. From the gallery's viewer, "Remix with same seed".
  await page.goto('/gallery');
  await page.getByRole('list', { name: 'Assets' }).getByRole('button', { name: 'Open a fox to remix' }).click();
  const viewer = page.getByRole('dialog', { name: 'a fox to remix' });
  await viewer.getByRole('link', { name: 'Remix with same seed', exact: true }).click();
  await page.getByRole('heading', { name: 'Studio', level: 1 }).waitFor();
  await page.locator('.form-header code', { hasText: KONTEXT }).waitFor();
  const form = page.getByRole('form', { name: /^Settings for/ });
  await page.waitForFunction(() => document.querySelector('textarea')?.value === 'a fox to remix');
  assert.doesNotMatch(page.url(), /remix=|seed=/);

  // The reference is back in its bucket, from the stored file, removable like an upload.
  const references = page.getByRole('region', { name: /^References/ });
  await references.getByText('tiny.png').waitFor();
  await references.getByText('from the remixed run').waitFor();
  assert.equal(await references.locator('img.preview-asset').getAttribute('src'), original.references[0].url);
  await references.getByRole('button', { name: 'Remove tiny.png' }).waitFor();
  await page.getByTestId('upload-notice').getByText(`Same seed: ${FAKE_SEED}.`).waitFor();

  // The seed is in the form.
  await form.locator('details.advanced > summary').click();
  assert.equal(await form.getByRole('spinbutton', { name: /^Seed/ }).inputValue(), String(FAKE_SEED));
  await screenshot(page, 'remix-filled.png');

  // Sent: the reference by id (no file part), the seed in the params.
  const remix = await submitted(page, () => form.getByRole('button', { name: 'Generate' }).click());
  assert.match(remix.body, new RegExp(`name="storedReference:generalReferences"\\r\\n\\r\\n${original.references[0].id}`));
  assert.doesNotMatch(remix.body, /filename="tiny\.png"/, 'nothing is uploaded again');
  const remixed = await waitForJob(page.request, remix.job.id, ['completed']);
  assert.equal(remixed.params.seed, FAKE_SEED);
  assert.equal(remixed.params.prompt, 'a fox to remix');
  assert.deepEqual(
    remixed.references.map((reference) => [reference.fileName, reference.bucket, reference.contentType]),
    [['tiny.png', 'generalReferences', 'image/png']],
  );
  assert.notEqual(remixed.references[0].id, original.references[0].id, 'the new job has its own copy');

  // 2. A cancelled job runs again from the queue, with its reference, as it was.
  const never = await generateWithReference(page.request, 'a fox that never comes [fal:never]');
  await ok(await page.request.post(`/api/jobs/${never.id}/cancel`));
  await waitForJob(page.request, never.id, ['cancelled']);
  await page.goto('/studio');
  const queue = page.getByRole('region', { name: 'Queue' });
  const cancelled = queue.locator(`li.job[data-job-id="${never.id}"]`);
  await cancelled.locator('[data-testid="job-status"]', { hasText: 'Cancelled' }).waitFor();
  const again = await submitted(page, () => cancelled.getByRole('button', { name: 'Run again' }).click());
  assert.match(again.body, /name="storedReference:generalReferences"/);
  const rerun = (await ok(await page.request.get(`/api/jobs/${again.job.id}`))).job;
  assert.equal(rerun.endpointId, KONTEXT);
  assert.equal(rerun.params.prompt, 'a fox that never comes [fal:never]');
  assert.deepEqual(rerun.references.map((reference) => reference.fileName), ['tiny.png']);
  await queue.locator(`li.job[data-job-id="${again.job.id}"]`).waitFor();
  await ok(await page.request.post(`/api/jobs/${again.job.id}/cancel`));

  // Its card's plain "Remix" fills the form instead: a new seed (the field empty), the reference back.
  await cancelled.getByRole('link', { name: 'Remix', exact: true }).click();
  await page.waitForFunction(() => document.querySelector('textarea')?.value === 'a fox that never comes [fal:never]');
  await references.getByText('tiny.png').waitFor();
  await page.getByTestId('upload-notice').getByText('New seed: fal picks one.').waitFor();
  const advanced = form.locator('details.advanced');
  if (!(await advanced.evaluate((details) => details.open))) await advanced.locator(':scope > summary').click();
  assert.equal(await form.getByRole('spinbutton', { name: /^Seed/ }).inputValue(), '');

  // 3. The request of the remixed job: what the server recorded sending to fal, with the prompt,
  // the seed and the reference inline (a 1×1 PNG is short enough to be kept whole).
  const done = queue.locator(`li.job[data-job-id="${remixed.id}"]`);
  await done.getByRole('button', { name: 'Request' }).click();
  const request = done.getByRole('region', { name: /^Request sent to fal/ });
  const json = JSON.parse(await request.getByLabel('JSON request').inputValue());
  assert.equal(json.prompt, 'a fox to remix');
  assert.equal(json.seed, FAKE_SEED);
  assert.match(json.image_url, /^data:image\/png;base64,[A-Za-z0-9+/=]+$/);
  assert.deepEqual(json, remixed.sentInput);
  await request.getByRole('tab', { name: 'Python' }).click();
  assert.match(await request.getByLabel('Python request').inputValue(), new RegExp(`fal_client\\.subscribe\\(\\s+"${KONTEXT.replace(/[/.]/g, '\\$&')}"`));
  await screenshot(page, 'remix-request.png');

  assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
});
