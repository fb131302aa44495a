// @vitest-environment happy-dom
import { cleanup, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { modelsQueryKey } from '../../api/models';
import type { User } from '../../api/types';
import { apiError, json, renderWithProviders, stubServer } from '../../test/harness';
import { SettingsPage } from './SettingsPage';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const withoutKey: User = { id: 'u1', email: 'ada@example.com', hasFalKey: false, role: 'member', mayUseStudioKey: false };
const withKey: User = { ...withoutKey, hasFalKey: true };

async function submitKey(key: string) {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText('fal API key'), key);
  await user.click(screen.getByRole('button', { name: 'Save key' }));
}

describe('settings: fal key', () => {
  it('explains a rejected key next to the input', async () => {
    stubServer({ 'PUT /api/account/fal-key': apiError(401, 'invalid_key', 'Invalid key') });
    renderWithProviders(<SettingsPage user={withoutKey} />, '/settings');
    await submitKey('invalid:key');

    const error = await screen.findByText(/^fal rejected this key/);
    const input = screen.getByLabelText('fal API key');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(input.getAttribute('aria-describedby')).toContain(error.id);
    expect(screen.getByTestId('fal-key-status').textContent).toBe('No fal key saved yet.');
  });

  it('says fal could not be reached and nothing was saved', async () => {
    stubServer({ 'PUT /api/account/fal-key': apiError(502, 'network', 'fal did not answer') });
    renderWithProviders(<SettingsPage user={withoutKey} />, '/settings');
    await submitKey('id:secret');
    expect(await screen.findByText(/fal could not be reached.*nothing was saved/)).toBeTruthy();
  });

  it('saves a key without admin scope and says credits are unavailable', async () => {
    const { calls } = stubServer({
      'PUT /api/account/fal-key': json(200, { user: withKey, credits: null }),
      'GET /api/spend': json(200, { currency: null, total: 0, byDay: [], byModel: [] }),
    });
    renderWithProviders(<SettingsPage user={withoutKey} />, '/settings');
    await submitKey('noadmin:secret');

    const status = await screen.findByRole('status');
    expect(status.textContent).toBe('Key saved. Credits unavailable for this key (it lacks admin scope).');
    expect(calls.find((c) => c.key === 'PUT /api/account/fal-key')?.body).toEqual({ key: 'noadmin:secret' });
  });

  it('sends the key\'s concurrency when one is given, and refuses one out of range without a request', async () => {
    const { calls } = stubServer({
      'PUT /api/account/fal-key': json(200, { user: { ...withKey, falKeyConcurrency: 40 }, credits: null }),
      'GET /api/spend': json(200, { currency: null, total: 0, byDay: [], byModel: [] }),
    });
    renderWithProviders(<SettingsPage user={withoutKey} />, '/settings');
    const user = userEvent.setup();
    const limit = screen.getByLabelText('Requests at fal at once (optional)');
    await user.type(limit, '0');
    await submitKey('paid:secret');
    expect(await screen.findByText(/whole number from 1 to 1000/)).toBeTruthy();
    expect(calls.some((c) => c.key === 'PUT /api/account/fal-key')).toBe(false);

    await user.clear(limit);
    await user.type(limit, '40');
    await user.click(screen.getByRole('button', { name: 'Save key' }));
    await screen.findByRole('status');
    expect(calls.find((c) => c.key === 'PUT /api/account/fal-key')?.body).toEqual({
      key: 'paid:secret',
      concurrency: 40,
    });
  });

  it('changes the saved key\'s limit alone, without the key, and says when it is above fal\'s usual 40', async () => {
    const { calls } = stubServer({
      'GET /api/account/credits': json(200, { balance: 1, currency: 'USD' }),
      'PATCH /api/account/fal-key': (call) => json(200, { user: { ...withKey, falKeyConcurrency: (call.body as { concurrency: number }).concurrency } }),
    });
    renderWithProviders(<SettingsPage user={{ ...withKey, falKeyConcurrency: 2 }} />, '/settings');
    const user = userEvent.setup();
    const limit = screen.getByLabelText('Requests at fal at once (optional)');
    expect(limit).toHaveProperty('value', '2');
    // Nothing changed yet: nothing to save.
    expect(screen.getByRole('button', { name: 'Replace key' })).toHaveProperty('disabled', true);
    expect(screen.getByLabelText('New fal API key').getAttribute('aria-describedby')).toBeTruthy();
    expect(screen.getByText(/Leave it empty to keep the saved key/)).toBeTruthy();

    await user.clear(limit);
    await user.type(limit, '500');
    const note = screen.getByText('fal’s accounts go up to 40 unless fal raised yours.');
    expect(limit.getAttribute('aria-describedby')).toContain(note.id);
    expect(limit.getAttribute('aria-invalid')).toBe('false');
    await user.click(screen.getByRole('button', { name: 'Save limit' }));
    // The note stays by the field; the notice does not say it again.
    expect((await screen.findByRole('status')).textContent).toBe('Limit saved: up to 500 requests at fal at once.');
    expect(screen.getAllByText('fal’s accounts go up to 40 unless fal raised yours.')).toHaveLength(1);
    expect(calls.filter((c) => c.key.startsWith('PATCH') || c.key.startsWith('PUT')).map((c) => [c.key, c.body])).toEqual([
      ['PATCH /api/account/fal-key', { concurrency: 500 }],
    ]);

    // Emptied: back to the studio's default, and no note.
    await user.clear(limit);
    expect(screen.queryByText('fal’s accounts go up to 40 unless fal raised yours.')).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Save limit' }));
    await screen.findByText('Limit saved: the studio’s default.');
    expect(calls.filter((c) => c.key === 'PATCH /api/account/fal-key').at(-1)?.body).toEqual({ concurrency: null });
  });

  it('keeps a limit out of range from the server, and shows the server\'s refusal at the field', async () => {
    const { calls } = stubServer({
      'GET /api/account/credits': json(200, { balance: 1, currency: 'USD' }),
      'PATCH /api/account/fal-key': apiError(409, 'conflict', 'No fal key is saved: save one first.'),
    });
    renderWithProviders(<SettingsPage user={withKey} />, '/settings');
    const user = userEvent.setup();
    const limit = screen.getByLabelText('Requests at fal at once (optional)');
    await user.type(limit, '1001');
    await user.click(screen.getByRole('button', { name: 'Save limit' }));
    expect(screen.getByText('Enter a whole number from 1 to 1000, or leave it empty.')).toBeTruthy();
    expect(calls.some((c) => c.key === 'PATCH /api/account/fal-key')).toBe(false);

    await user.clear(limit);
    await user.type(limit, '8');
    await user.click(screen.getByRole('button', { name: 'Save limit' }));
    const error = await screen.findByText('No fal key is saved: save one first.');
    expect(limit.getAttribute('aria-invalid')).toBe('true');
    expect(limit.getAttribute('aria-describedby')).toContain(error.id);
  });

  it('sends the limit with a replaced key, so replacing it keeps the limit', async () => {
    const { calls } = stubServer({
      'GET /api/account/credits': json(200, { balance: 1, currency: 'USD' }),
      'PUT /api/account/fal-key': json(200, { user: { ...withKey, falKeyConcurrency: 12 }, credits: { balance: 1, currency: 'USD' } }),
    });
    renderWithProviders(<SettingsPage user={{ ...withKey, falKeyConcurrency: 12 }} />, '/settings');
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('New fal API key'), 'new:secret');
    await user.click(screen.getByRole('button', { name: 'Replace key' }));
    await screen.findByText('Key saved.');
    expect(calls.find((c) => c.key === 'PUT /api/account/fal-key')?.body).toEqual({ key: 'new:secret', concurrency: 12 });
  });

  it('shows the credit balance as money', async () => {
    stubServer({ 'GET /api/account/credits': json(200, { balance: 24.5, currency: 'USD' }) });
    renderWithProviders(<SettingsPage user={withKey} />, '/settings');
    expect((await screen.findByTestId('credits-balance')).textContent).toMatch(/24\.50/);
  });

  it('removes the key only after confirmation', async () => {
    const { calls } = stubServer({
      'GET /api/account/credits': json(200, { balance: 1, currency: 'USD' }),
      'DELETE /api/account/fal-key': json(200, { user: withoutKey }),
    });
    renderWithProviders(<SettingsPage user={withKey} />, '/settings');
    const user = userEvent.setup();

    await user.click(screen.getByRole('button', { name: 'Remove key' }));
    expect(calls.some((c) => c.key === 'DELETE /api/account/fal-key')).toBe(false);
    const confirm = screen.getByRole('group', { name: 'Confirm key removal' });
    await user.click(within(confirm).getByRole('button', { name: 'Yes, remove key' }));

    expect((await screen.findByText('Key removed.')).textContent).toBe('Key removed.');
    expect(calls.filter((c) => c.key === 'DELETE /api/account/fal-key')).toHaveLength(1);
  });

  it('makes the model prices stale when a key is saved, so they show without a reload', async () => {
    stubServer({
      'PUT /api/account/fal-key': json(200, { user: withKey, credits: null }),
      'GET /api/spend': json(200, { currency: null, total: 0, byDay: [], byModel: [] }),
      'DELETE /api/account/fal-key': json(200, { user: withoutKey }),
    });
    const { queryClient } = renderWithProviders(<SettingsPage user={withoutKey} />, '/settings');
    // What the studio cached before the key: the catalog and a form, both without prices.
    const list = [...modelsQueryKey, 'list', { q: '', category: null }];
    const spec = [...modelsQueryKey, 'spec', 'fal-ai/flux/dev'];
    queryClient.setQueryData(list, { pages: [{ models: [], nextCursor: null, stale: false }], pageParams: [null] });
    queryClient.setQueryData(spec, { endpointId: 'fal-ai/flux/dev', fields: [], price: null });
    await submitKey('id:secret');
    await screen.findByRole('status');
    expect(queryClient.getQueryState(list)?.isInvalidated).toBe(true);
    expect(queryClient.getQueryState(spec)?.isInvalidated).toBe(true);

  });

  it('makes the model prices stale when the key is removed', async () => {
    stubServer({
      'GET /api/account/credits': json(200, { balance: 1, currency: 'USD' }),
      'DELETE /api/account/fal-key': json(200, { user: withoutKey }),
    });
    const { queryClient } = renderWithProviders(<SettingsPage user={withKey} />, '/settings');
    const list = [...modelsQueryKey, 'list', { q: '', category: null }];
    queryClient.setQueryData(list, { pages: [], pageParams: [] });
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Remove key' }));
    await user.click(within(screen.getByRole('group', { name: 'Confirm key removal' })).getByRole('button', { name: 'Yes, remove key' }));
    await screen.findByText('Key removed.');
    expect(queryClient.getQueryState(list)?.isInvalidated).toBe(true);
  });
});
