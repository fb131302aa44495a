import type { BudgetState, KeySource } from '../api/types';
import { formatMoney } from './money';

/** A key source in words, as the admin's accounts table shows it. */
export const KEY_SOURCE_LABELS = {
  own: 'Own key',
  studio: 'Studio key',
  none: 'No key',
} as const satisfies Record<KeySource, string>;

/** Budgets, spend and reservations are US dollars. */
export const formatUsd = (amount: number, locale?: string) => formatMoney(amount, 'USD', locale);

/** What a month has used of a budget: spent, and reserved by jobs still waiting or running. */
export const budgetUsedUsd = (state: Pick<BudgetState, 'spentMonthUsd' | 'reservedUsd'>) => state.spentMonthUsd + state.reservedUsd;

/**
 * How much of a budget is used, as a percentage ("82%", "170%"): rounded down, so it says 100%
 * only once it is all used. `null` without a limit, or with a limit of 0.
 */
export function formatBudgetUsed(state: Pick<BudgetState, 'budgetMonthlyUsd' | 'spentMonthUsd' | 'reservedUsd'>, locale?: string): string | null {
  const budget = state.budgetMonthlyUsd;
  if (budget == null || budget <= 0) return null;
  // Whole percents, in integers: 0.82 * 100 is 81.99999999999999 in floating point.
  const percent = Math.floor(Math.round((budgetUsedUsd(state) / budget) * 1_000_000) / 10_000);
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(percent / 100);
}

/** The day a budget starts again (`resetsAt`, the first moment of a month in UTC), e.g. "Jan 1, 2027". */
export function formatResetDay(resetsAt: string, locale?: string): string {
  const date = new Date(resetsAt);
  if (Number.isNaN(date.getTime())) return resetsAt;
  return new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' }).format(date);
}

/** Text typed as an amount in USD: `null` when empty (no limit), the amount, or what is wrong. */
export function parseUsd(text: string, max = 1_000_000): number | null | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value < 0 || value > max) {
    return { error: `Enter an amount in USD from 0 to ${max.toLocaleString('en-US')}, or leave it empty.` };
  }
  return value;
}
