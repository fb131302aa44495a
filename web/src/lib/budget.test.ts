import { describe, expect, it } from 'vitest';
import { budgetUsedUsd, formatBudgetUsed } from './budget';

const state = (budgetMonthlyUsd: number | null, spentMonthUsd: number, reservedUsd = 0) => ({ budgetMonthlyUsd, spentMonthUsd, reservedUsd });

describe('formatBudgetUsed', () => {
  it('is the share spent and reserved, rounded down', () => {
    expect(formatBudgetUsed(state(5, 3.9, 0.2), 'en-US')).toBe('82%');
    expect(formatBudgetUsed(state(5, 8.5), 'en-US')).toBe('170%');
    expect(formatBudgetUsed(state(1, 0.99999), 'en-US')).toBe('99%');
    expect(formatBudgetUsed(state(1, 1), 'en-US')).toBe('100%');
  });

  it('is null without a limit or with a limit of 0', () => {
    expect(formatBudgetUsed(state(null, 3), 'en-US')).toBeNull();
    expect(formatBudgetUsed(state(0, 0), 'en-US')).toBeNull();
  });

  it('counts reserved jobs as used', () => {
    expect(budgetUsedUsd(state(5, 1, 0.5))).toBe(1.5);
  });
});
