// Browser end-to-end test of teams and budgets: the studio's first account is its admin, saves a
// studio key on the admin page, lets a member use it with a $0.05 monthly budget; the member's
// two-run generation (2 × $0.03 at the fake fal's price) is held back by the form with the
// reason, a one-run generation goes through, a model without a price is refused by the server
// with its sentence, and the admin's usage report charts the run and downloads it as
// CSV. Members never see the admin page; on a phone it does not scroll sideways. Real studio
// binary + fake fal + Chromium (fixtures.mjs); a studio of its own, so this flow's first sign-up
// is the admin.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { clickModel, JOB_TIMEOUT_MS, screenshot, SEEDREAM_T2I, signUp, test, uniqueEmail, VEO3 } from './fixtures.mjs';

const STUDIO_KEY = 'studio-kid:studio-secret';

test.use({
  studio: 'budget',
  expectedFailures: {
    '401 /api/auth/me': 'signed out before signing up',
    '402 /api/generations': 'the member’s generation over budget',
  },
});

const nav = (page) => page.getByRole('navigation', { name: 'Main' });
const accountRow = (page, email) =>
  page.getByRole('table').locator('tr', { has: page.getByRole('rowheader', { name: new RegExp(`^${email.replace(/[.+]/g, '\\$&')}`) }) });

test('an admin gives a member the studio key and a budget; over it, the member is told why', async ({ page, consoleErrors, openPage }) => {
  // The first account is the admin: the admin page is in its navigation.
  const adminEmail = uniqueEmail();
  await signUp(page, adminEmail);
  await nav(page).getByRole('link', { name: 'Admin' }).click();
  await page.getByRole('heading', { name: 'Admin', level: 1 }).waitFor();

  // The studio key: a password input, cleared once saved; only the key id is shown again.
  const keyInput = page.getByLabel('Studio fal key', { exact: true });
  assert.equal(await keyInput.getAttribute('type'), 'password');
  await keyInput.fill(STUDIO_KEY);
  await page.getByRole('button', { name: 'Save studio key' }).click();
  await page.getByTestId('studio-key-status').getByText('A studio key is saved (key id studio-kid).').waitFor();
  assert.equal(await page.getByLabel('New studio fal key', { exact: true }).inputValue(), '');
  assert.ok(!(await page.content()).includes('studio-secret'), 'the key’s secret is nowhere on the page');

  // A member signs up in a browser of their own: no admin link, and /admin is not found.
  const member = await openPage({ '401 /api/auth/me': 'signed out before signing up', '402 /api/generations': 'over budget' });
  const memberEmail = uniqueEmail();
  await signUp(member.page, memberEmail);
  assert.equal(await nav(member.page).getByRole('link', { name: 'Admin' }).count(), 0);
  const adminCalls = [];
  member.page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/admin')) adminCalls.push(request.url());
  });
  await member.page.goto('/admin');
  await member.page.getByRole('heading', { name: 'Page not found' }).waitFor();
  assert.deepEqual(adminCalls, [], 'a member’s browser never asks for admin data');

  // The admin allows the member the studio key and sets a $0.05 budget.
  await page.reload();
  const row = accountRow(page, memberEmail);
  await row.getByTestId('key-source').getByText('No key').waitFor();
  await row.getByRole('checkbox', { name: `${memberEmail} may use the studio key` }).check();
  await row.getByTestId('key-source').getByText('Studio key').waitFor();
  await row.getByLabel(`Monthly budget of ${memberEmail} in USD (empty: no limit)`).fill('0.05');
  const saved = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/api/admin/users/'));
  await row.getByRole('button', { name: `Save budget of ${memberEmail}` }).click();
  assert.equal((await saved).status(), 200);
  assert.equal(await row.getByLabel(/^Monthly budget of/).inputValue(), '0.05');
  await screenshot(page, 'budget-admin-accounts.png');

  // The member's settings say which key and budget apply.
  await member.page.goto('/settings');
  const budgetCard = member.page.getByRole('region', { name: 'Key and budget' });
  await budgetCard.getByTestId('key-source').getByText(/run on the studio’s fal key/).waitFor();
  await budgetCard.getByTestId('budget-remaining').getByText('$0.05').waitFor();
  await screenshot(member.page, 'budget-member-settings.png');

  // Two runs at $0.03 would cost $0.06, more than the $0.05 left: the form holds Generate back and says why.
  await nav(member.page).getByRole('link', { name: 'Studio' }).click();
  await member.page.getByTestId('live-state').getByText('Live').waitFor();
  await clickModel(member.page, 'seedream', SEEDREAM_T2I);
  await member.page.locator('.form-header code', { hasText: SEEDREAM_T2I }).waitFor();
  await member.page.getByTestId('key-use').getByText('Runs on the studio key').waitFor();
  await member.page.getByRole('textbox', { name: /^Prompt/ }).fill('a red fox');
  await member.page.getByRole('spinbutton', { name: 'Runs' }).fill('2');
  const reason = member.page.getByTestId('generate-reason');
  await reason.getByText(/^This generation is estimated at \$0\.06, more than the \$0\.05 left of your monthly budget/).waitFor();
  assert.equal(await member.page.getByRole('button', { name: 'Generate 2 jobs' }).isDisabled(), true, 'Generate is off over budget');
  await screenshot(member.page, 'budget-member-held-back.png');

  // One run fits: it completes on the studio key.
  await member.page.getByRole('spinbutton', { name: 'Runs' }).fill('1');
  const generate = member.page.getByRole('button', { name: 'Generate', exact: true });
  await member.page.waitForFunction((button) => !button.disabled, await generate.elementHandle());
  await generate.click();
  const queue = member.page.getByRole('region', { name: 'Queue' });
  await queue.locator('li.job[data-status="completed"]').first().waitFor({ timeout: JOB_TIMEOUT_MS });

  // A model without a price: the form cannot tell, the server refuses it (this studio refuses unpriced
  // generations while a budget applies), with its sentence and an "Over budget" badge.
  await clickModel(member.page, 'veo3', VEO3);
  await member.page.locator('.form-header code', { hasText: VEO3 }).waitFor();
  await member.page.getByRole('textbox', { name: /^Prompt/ }).fill('a red fox running');
  await member.page.getByRole('button', { name: 'Generate', exact: true }).click();
  const form = member.page.getByRole('form', { name: /^Settings for / });
  const refusal = form.getByRole('alert');
  await refusal.waitFor();
  const message = await refusal.innerText();
  assert.match(message, /cannot be estimated/, message);
  assert.match(message, /\$0\.02 is left/, message);
  const refused = queue.locator('li[data-status="refused"]').first();
  assert.equal(await refused.getByTestId('error-category').innerText(), 'Over budget');
  await screenshot(member.page, 'budget-member-refused.png');

  // The admin's usage report: the member's $0.03, charted, and as CSV.
  await page.reload();
  const usage = page.getByRole('region', { name: 'Usage' });
  await usage.getByRole('rowheader', { name: memberEmail }).waitFor();
  await usage.getByTestId('usage-total').getByText('$0.03').waitFor();
  const chart = usage.getByRole('img', { name: /^Estimated USD by user: / });
  await chart.and(page.locator('[data-state="drawn"]')).waitFor();
  assert.equal(await chart.locator('canvas').count(), 1, 'uPlot drew the chart');
  await screenshot(page, 'budget-admin-usage.png');
  const download = page.waitForEvent('download');
  await usage.getByRole('button', { name: 'Download CSV' }).click();
  const file = await download;
  assert.match(file.suggestedFilename(), /^usage-by-user-\d{4}-\d{2}-01-to-\d{4}-\d{2}-\d{2}\.csv$/);
  const lines = (await readFile(await file.path(), 'utf8')).trimEnd().split('\r\n');
  assert.equal(lines[0], 'key,label,estimated_usd,reconciled_usd,jobs,unpriced_jobs');
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[1] ?? '', new RegExp(`^[^,]+,${memberEmail.replace(/[.+]/g, '\\$&')},0\\.03,[^,]*,1,0$`));

  // On a phone the accounts and usage tables scroll inside their cards, never the page.
  await page.setViewportSize({ width: 390, height: 844 });
  await chart.and(page.locator('[data-state="drawn"]')).waitFor();
  // The chart redraws at the new width when its ResizeObserver fires (the next frames); the
  // page must have settled without sideways scrolling by then.
  await page
    .waitForFunction(() => {
      const root = globalThis.document.documentElement;
      return root.scrollWidth <= root.clientWidth;
    }, undefined, { timeout: 5_000 })
    .catch(() => undefined);
  const [scrollWidth, clientWidth] = await page.evaluate(() => {
    const root = globalThis.document.documentElement;
    return [root.scrollWidth, root.clientWidth];
  });
  assert.ok(scrollWidth <= clientWidth, `the admin page scrolls sideways on a phone (${scrollWidth} > ${clientWidth})`);

  assert.deepEqual(consoleErrors, [], 'the admin’s console must stay free of errors');
  assert.deepEqual(member.consoleErrors, [], 'the member’s console must stay free of errors');
});
