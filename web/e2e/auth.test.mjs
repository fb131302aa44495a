// Browser end-to-end test of sign-up, fal key, credits, sign-out and sign-in, against the real
// studio binary, the fake fal server and Debian's Chromium (see fixtures.mjs).
import assert from 'node:assert/strict';
import { PASSWORD, screenshot, test, uniqueEmail } from './fixtures.mjs';

const VALID_KEY = 'fake-key-id:fake-secret';
const INVALID_KEY = 'invalid-key-id:nope';

// The non-2xx answers this flow expects (Chromium logs each as a console error).
test.use({
  expectedFailures: {
    '401 /api/auth/me': 'signed out',
    '401 /api/account/fal-key': 'the invalid key',
  },
});

test('sign up, save a fal key, see credits, sign out and sign in again', async ({ page, consoleErrors }) => {
  const email = uniqueEmail();
  const me = async () => (await (await page.request.get('/api/auth/me')).json()).user;

  // Signed out: / → /studio → sign-in page.
  const response = await page.goto('/');
  // The console check below only proves CSP-cleanliness if the policy is actually in force.
  assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/login');

  // Sign up with a fresh email → lands in the app.
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByRole('heading', { name: 'Create an account' }).waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Studio' }).waitFor();
  await page.getByTestId('signed-in-email').getByText(email).waitFor();
  await page.getByText('add your fal key in').waitFor();

  // Settings: no key yet.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  await page.getByTestId('fal-key-status').getByText('No fal key saved yet.').waitFor();

  // An invalid key is rejected and nothing is stored.
  await page.getByLabel('fal API key', { exact: true }).fill(INVALID_KEY);
  await page.getByRole('button', { name: 'Save key' }).click();
  await page.getByText(/fal rejected this key/).waitFor();
  assert.equal(await page.getByLabel('fal API key', { exact: true }).getAttribute('aria-invalid'), 'true');
  await page.getByTestId('fal-key-status').getByText('No fal key saved yet.').waitFor();
  assert.equal((await me()).hasFalKey, false, 'an invalid key must not be stored');

  // A valid key is saved and credits are shown.
  await page.getByLabel('fal API key', { exact: true }).fill(VALID_KEY);
  await page.getByRole('button', { name: 'Save key' }).click();
  await page.getByRole('status').getByText('Key saved.').waitFor();
  await page.getByTestId('fal-key-status').getByText('A fal key is saved.').waitFor();
  const balance = page.getByTestId('credits-balance');
  await balance.waitFor();
  assert.match(await balance.innerText(), /24\.50/);
  assert.equal((await me()).hasFalKey, true);

  // Sign out → the sign-in page.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await me(), undefined, 'the session must be gone after signing out');

  // Sign in again → the app, with the key still saved.
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Studio' }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await page.getByTestId('fal-key-status').getByText('A fal key is saved.').waitFor();
  await page.getByTestId('credits-balance').getByText(/24\.50/).waitFor();

  await screenshot(page, 'auth-flow.png');
  assert.deepEqual(consoleErrors, [], 'the browser console must stay free of errors');
});
