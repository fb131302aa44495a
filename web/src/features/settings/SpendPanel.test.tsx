// @vitest-environment happy-dom
import { cleanup, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiError, json, renderWithProviders, stubServer } from '../../test/harness';
import { formatDay, SPEND_NOTE, SpendPanel } from './SpendPanel';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('SpendPanel', () => {
  it('shows the total, each day and each model in the returned currency, and says they are estimates', async () => {
    const { calls } = stubServer({
      'GET /api/spend': json(200, {
        currency: 'EUR',
        total: 1.25,
        byDay: [
          { day: '2026-11-24', total: 0.25, jobs: 2 },
          { day: '2026-11-25', total: 1, jobs: 5 },
        ],
        byModel: [
          { endpointId: 'fal-ai/flux-pro/kontext', modelName: 'FLUX.1 Kontext [pro]', total: 0.2, jobs: 5 },
          { endpointId: 'fal-ai/veo3', modelName: null, total: 1.05, jobs: 2 },
        ],
      }),
    });
    renderWithProviders(<SpendPanel />);
    expect((await screen.findByTestId('spend-total')).textContent).toBe('€1.25');
    expect(calls[0]?.search).toBe('?days=30');
    expect(screen.getByText(SPEND_NOTE)).toBeTruthy();

    const days = within(screen.getByRole('table', { name: 'Spend by day' })).getAllByRole('row').slice(1);
    expect(days.map((row) => row.textContent)).toEqual([`${formatDay('2026-11-25')}5€1.00`, `${formatDay('2026-11-24')}2€0.25`]);
    const meters = days.map((row) => row.querySelector('meter'));
    expect(meters.map((m) => [m?.getAttribute('value'), m?.getAttribute('max')])).toEqual([
      ['1', '1'],
      ['0.25', '1'],
    ]);

    const models = within(screen.getByRole('table', { name: 'Spend by model' })).getAllByRole('row').slice(1);
    expect(models.map((row) => row.textContent)).toEqual(['fal-ai/veo32€1.05', 'FLUX.1 Kontext [pro] fal-ai/flux-pro/kontext5€0.20']);
  });

  it('says when there is nothing to show, and shows a failure', async () => {
    stubServer({ 'GET /api/spend': json(200, { currency: null, total: 0, byDay: [], byModel: [] }) });
    renderWithProviders(<SpendPanel />);
    // No job had a price, so no currency is named: the estimates are dollars all the same.
    expect((await screen.findByTestId('spend-total')).textContent).toBe('$0.00');
    expect(screen.getByText('No jobs in the last 30 days.')).toBeTruthy();
    cleanup();

    stubServer({ 'GET /api/spend': apiError(500, 'internal', 'Database unavailable.') });
    renderWithProviders(<SpendPanel />);
    expect((await screen.findByRole('alert')).textContent).toBe('Could not load spend: Database unavailable.');
  });

  it('formats a day as a calendar day, whatever the time zone', () => {
    expect(formatDay('2026-11-25', 'en-US')).toBe('Wed, Nov 25');
    expect(formatDay('not a day', 'en-US')).toBe('not a day');
  });
});
