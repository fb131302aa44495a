// @vitest-environment happy-dom
import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MyBudget, User } from '../../api/types';
import { json, renderWithProviders, stubServer } from '../../test/harness';
import { BudgetPanel, keySourceText } from './BudgetPanel';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const member: User = { id: 'u1', email: 'ada@example.com', hasFalKey: false, role: 'member', mayUseStudioKey: true };
const budget: MyBudget = {
  keySource: 'studio',
  budgetMonthlyUsd: 0.05,
  spentMonthUsd: 0.03,
  reservedUsd: 0.01,
  remainingUsd: 0.01,
  resetsAt: '2027-01-01T00:00:00Z',
  warning: true,
};

describe('settings: key and budget', () => {
  it('says the studio key is used, shows the month, and warns at 80 %', async () => {
    stubServer({ 'GET /api/account/budget': json(200, budget) });
    renderWithProviders(<BudgetPanel user={member} />);
    expect((await screen.findByTestId('key-source')).textContent).toMatch(/run on the studio’s fal key/);
    const facts = screen.getByTestId('budget-facts');
    expect([...facts.querySelectorAll('div')].map((d) => d.textContent)).toEqual([
      'Monthly budget$0.05',
      'Spent this month$0.03',
      'Reserved by waiting and running jobs$0.01',
      'Remaining$0.01',
      'Budget resetsJan 1, 2027',
    ]);
    expect(screen.getByRole('status').textContent).toMatch(/^You have used 80 % or more of this month’s budget/);
  });

  it('shows no limit and no warning without a budget', async () => {
    stubServer({
      'GET /api/account/budget': json(200, { ...budget, keySource: 'own', budgetMonthlyUsd: null, remainingUsd: null, warning: false }),
    });
    renderWithProviders(<BudgetPanel user={{ ...member, hasFalKey: true }} />);
    expect((await screen.findByTestId('key-source')).textContent).toBe('Your generations run on your own fal key.');
    expect(screen.getByText('No limit')).toBeTruthy();
    expect(screen.queryByTestId('budget-remaining')).toBeNull();
    expect(screen.queryByRole('status')).toBeNull();
  });

  it.each([
    ['may use the studio key, none saved', true, /none is saved yet.*ask your admin to save the studio key/],
    ['may not use it', false, /add your own fal key above.*let you use the studio’s key/],
  ])('says what to do without a key: %s', (_name, mayUseStudioKey, expected) => {
    expect(keySourceText({ keySource: 'none' }, { mayUseStudioKey })).toMatch(expected);
  });
});
