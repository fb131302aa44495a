import { useMyBudget } from '../../api/budget';
import type { KeySource, MyBudget, User } from '../../api/types';
import { budgetUsedUsd, formatBudgetUsed, formatResetDay, formatUsd } from '../../lib/budget';
import { formatCost } from '../../lib/money';

export const NO_KEY_REASON = 'Add your fal key in Settings to generate.';
export const NO_STUDIO_KEY_REASON =
  'The studio key is not set up yet: add your own fal key in Settings, or ask your admin to save the studio key.';

/** Which key Generate will use, and this month's budget when known. */
export interface KeyUse {
  source: KeySource;
  /** Why Generate is off when there is no key. */
  noKeyReason: string;
  budget: MyBudget | null;
}

/**
 * `GET /api/account/budget` says which key new jobs run on. Until it answers (or should it
 * fail) the account's own flags stand in: the server still decides, and says why if it refuses.
 */
export function useKeyUse(user: User): KeyUse {
  const budget = useMyBudget();
  const guess: KeySource = user.hasFalKey ? 'own' : user.mayUseStudioKey ? 'studio' : 'none';
  return {
    source: budget.data?.keySource ?? guess,
    noKeyReason: user.mayUseStudioKey ? NO_STUDIO_KEY_REASON : NO_KEY_REASON,
    budget: budget.data ?? null,
  };
}

/** Amounts in whole micro-dollars, as the server counts them, so float noise never decides. */
const micros = (usd: number) => Math.round(usd * 1_000_000);

/** Nothing is left of the budget (or it is $0): no priced generation can start this month. */
function usedUp(budget: MyBudget): boolean {
  return budget.budgetMonthlyUsd != null && micros(budget.remainingUsd ?? 0) <= 0;
}

/** The budget in a sentence once nothing is left of it. */
function usedUpText(budget: MyBudget): string {
  const limit = budget.budgetMonthlyUsd ?? 0;
  if (limit <= 0) return `Your monthly budget is ${formatUsd(0)}, so nothing can be generated: ask the studio’s admin to raise it.`;
  return `Your monthly budget is used up (${formatUsd(budgetUsedUsd(budget))} of ${formatUsd(limit)}) until ${formatResetDay(budget.resetsAt)}.`;
}

/**
 * Beside Generate, when the budget needs a word: used up, or nearly (the server's `warning`, at
 * 80 %), with how much is used and what is left. `null` when there is no limit or plenty left.
 */
export function budgetNote(budget: MyBudget | null): string | null {
  if (budget === null || budget.budgetMonthlyUsd == null) return null;
  if (usedUp(budget)) return usedUpText(budget);
  if (!budget.warning) return null;
  const used = formatBudgetUsed(budget);
  const left = `${formatCost(budget.remainingUsd ?? 0, 'USD')} left until ${formatResetDay(budget.resetsAt)}`;
  return used === null ? `Most of your monthly budget is used: ${left}.` : `${used} of your monthly budget is used: ${left}.`;
}

/**
 * Why Generate is off for the budget, or `null`: nothing is left, or this generation's estimate
 * (all runs together; `null` while unknown) is more than what is left. The server counts the same
 * way and has the last word; a generation it cannot price is for it to decide.
 */
export function budgetReason(budget: MyBudget | null, estimateUsd: number | null): string | null {
  if (budget === null || budget.budgetMonthlyUsd == null) return null;
  const remaining = budget.remainingUsd ?? 0;
  // A free generation still fits in nothing left.
  if (estimateUsd !== null ? micros(estimateUsd) <= micros(remaining) : !usedUp(budget)) return null;
  if (usedUp(budget)) return usedUpText(budget);
  return `This generation is estimated at ${formatCost(estimateUsd ?? 0, 'USD')}, more than the ${formatCost(remaining, 'USD')} left of your monthly budget until ${formatResetDay(budget.resetsAt)}. Choose fewer runs or outputs.`;
}

/**
 * Beside Generate: the key the job will run on, and a word when the budget is nearly or all
 * spent (`hideBudget`: Generate's reason already says it).
 */
export function KeyNote({ keyUse, hideBudget = false }: { keyUse: KeyUse; hideBudget?: boolean }) {
  if (keyUse.source === 'none') return null;
  const note = hideBudget ? null : budgetNote(keyUse.budget);
  return (
    <div className="key-note">
      <p className="muted" data-testid="key-use">
        {keyUse.source === 'own' ? 'Runs on your key' : 'Runs on the studio key'}
      </p>
      {note !== null && (
        <p className="budget-note" data-testid="budget-warning">
          {note}
        </p>
      )}
    </div>
  );
}
