// Browser end-to-end test of an audio model: the prompt typed for an image model moves into the
// text-to-speech model's `text` field, Generate gives a playable 3-second MP3 on the stage (never a
// broken image), the gallery tile shows ♪, the viewer plays it, and its share link, opened
// signed-out, plays it too and carries og:audio. Real studio binary + fake fal + Chromium.
/* global document, getComputedStyle */
import assert from 'node:assert/strict';
import { clickModel, JOB_TIMEOUT_MS, saveFalKey, screenshot, SEEDREAM_T2I, signUp, STEP_TIMEOUT_MS, test, uniqueEmail } from './fixtures.mjs';

const TTS = 'fal-ai/elevenlabs/tts/multilingual-v2';
const TEXT = 'Hello from the fox, read aloud';
/** The fake fal's MP3 is 3 s long; decoders round a frame or so either way. */
const CLIP_SECONDS = 3;

test.use({
  viewport: { width: 1280, height: 800 },
  expectedFailures: { '401 /api/auth/me': 'signed out before signing up' },
});

async function pickModel(page, search, endpointId) {
  await clickModel(page, search, endpointId);
  await page.locator('.form-header code', { hasText: endpointId }).waitFor();
}

/**
 * Waits until the audio element has read the clip's header (its duration is known, so the bytes
 * really are audio the browser can play) and returns that duration in seconds.
 */
async function loadedDuration(page, audio) {
  const handle = await audio.elementHandle();
  await page.waitForFunction((element) => element.readyState >= 1 && Number.isFinite(element.duration), handle, { timeout: STEP_TIMEOUT_MS });
  const { duration, error } = await audio.evaluate((element) => ({ duration: element.duration, error: element.error?.code ?? null }));
  assert.equal(error, null, 'the audio element reports no media error');
  return duration;
}

/**
 * The player's controls have room to be drawn: Chromium draws them in the content box, so padding
 * that eats the element's height leaves an empty box with a working but invisible player.
 */
async function assertPlayerShown(audio, where) {
  const { width, height } = await audio.evaluate((element) => {
    const style = getComputedStyle(element);
    return {
      width: element.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
      height: element.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom),
    };
  });
  assert.ok(width >= 200 && height >= 30, `${where}: the player's controls have room (${width} × ${height} px)`);
}

function assertClipLength(duration, where) {
  assert.ok(Math.abs(duration - CLIP_SECONDS) < 0.5, `${where}: the clip lasts about ${CLIP_SECONDS} s, not ${duration}`);
}

test('an audio model end to end: text field, stage player, gallery, viewer, public share', async ({ page, consoleErrors, openPage, baseURL }) => {
  await signUp(page, uniqueEmail());
  await saveFalKey(page.request);
  await page.reload();
  await page.getByTestId('live-state').getByText('Live').waitFor();
  const stage = page.getByRole('region', { name: 'Latest results' });

  // What was typed for an image model goes along into the speech model's own text field.
  await pickModel(page, 'seedream', SEEDREAM_T2I);
  await page.getByRole('textbox', { name: /^Prompt/ }).fill(TEXT);
  await pickModel(page, 'elevenlabs', TTS);
  const text = page.getByRole('textbox', { name: /^Text/ });
  assert.equal(await text.inputValue(), TEXT, 'the prompt moved into the `text` field');
  assert.equal(await page.getByRole('textbox', { name: /^Prompt/ }).count(), 0, 'no second prompt box beside it');
  await screenshot(page, 'audio-form.png');

  await page.getByRole('button', { name: 'Generate', exact: true }).click();

  // The stage: a player, never an image, and the clip really loads.
  const figure = stage.locator('figure.stage-audio').first();
  await figure.waitFor({ timeout: JOB_TIMEOUT_MS });
  const stageAudio = figure.locator('audio[controls]');
  await stageAudio.waitFor();
  assert.equal(await figure.locator('img').count(), 0, 'an audio result never renders as an image');
  assertClipLength(await loadedDuration(page, stageAudio), 'on the stage');
  await assertPlayerShown(stageAudio, 'on the stage');
  // The queue's copy of the result gets a whole row too, not a 96 px thumbnail cell.
  await assertPlayerShown(page.getByRole('region', { name: 'Queue' }).locator('audio[controls]').first(), 'in the queue');
  const assetId = await figure.getAttribute('data-asset-id');
  assert.ok(assetId, 'the stage names the asset');
  await screenshot(page, 'audio-stage.png');

  // The gallery: the tile shows the ♪ icon (audio has no thumbnail) and its length.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Gallery' }).click();
  await page.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor();
  const tile = page.locator(`li.tile[data-asset-id="${assetId}"]`);
  await tile.waitFor();
  assert.equal(await tile.getAttribute('data-kind'), 'audio');
  assert.equal((await tile.getByTestId('tile-icon').innerText()).trim(), '♪');
  assert.equal(await tile.locator('img').count(), 0, 'no image in an audio tile');
  await screenshot(page, 'audio-gallery.png');

  // The viewer: a player that loads.
  await tile.getByRole('button', { name: `Open ${TEXT}` }).click();
  const viewer = page.getByRole('dialog', { name: TEXT });
  const viewerAudio = viewer.locator('audio[controls]');
  await viewerAudio.waitFor();
  assert.equal(await viewer.locator('img.viewer-media').count(), 0);
  assertClipLength(await loadedDuration(page, viewerAudio), 'in the viewer');
  await assertPlayerShown(viewerAudio, 'in the viewer');
  await viewer.getByTestId('asset-metadata').getByText(TTS).first().waitFor();
  await screenshot(page, 'audio-viewer.png');

  // Share it with the prompt shown.
  await viewer.getByRole('button', { name: 'Share…' }).click();
  const share = page.getByRole('dialog', { name: 'Share audio' });
  assert.equal(await share.getByLabel('Show prompt & parameters').isChecked(), true);
  await share.getByRole('button', { name: 'Create link' }).click();
  const link = await share.getByTestId('share-link').inputValue();
  assert.match(link, /^https?:\/\/[^/]+\/s\/[^/?#]+$/, `an absolute share link: ${link}`);
  await screenshot(page, 'audio-share.png');
  // The server builds links from PUBLIC_URL; the test server listens on a random port.
  const shareUrl = new URL(new URL(link).pathname, baseURL).href;

  // Signed out, in a fresh context: a player whose clip loads, the prompt, and og:audio.
  const { page: guest, consoleErrors: guestErrors } = await openPage();
  const shown = await guest.goto(shareUrl);
  assert.equal(shown?.status(), 200);
  const guestAudio = guest.locator('audio').first();
  await guestAudio.waitFor();
  assertClipLength(await loadedDuration(guest, guestAudio), 'on the share page');
  await assertPlayerShown(guestAudio, 'on the share page');
  await guest.getByText(TEXT).first().waitFor();
  const ogAudio = await guest.locator('meta[property="og:audio"]').getAttribute('content');
  assert.match(ogAudio ?? '', /^https?:\/\//, 'og:audio is an absolute URL');
  assert.equal(await guest.locator('meta[property="og:audio:type"]').getAttribute('content'), 'audio/mpeg');
  assert.equal(await guest.evaluate(() => document.querySelectorAll('img').length), 0, 'no broken image on the share page');
  await screenshot(guest, 'audio-share-public.png');

  assert.deepEqual(guestErrors, [], 'the share page has no console errors');
  assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
});
