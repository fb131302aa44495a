import { useMyBudget } from '../../api/budget';
import type { KeySource, MyBudget, User } from '../../api/types';
import { formatResetDay, formatUsd } from '../../lib/budget';

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

/** Beside Generate: the key the job will run on, and a word when the budget is nearly spent. */
export function KeyNote({ keyUse }: { keyUse: KeyUse }) {
  if (keyUse.source === 'none') return null;
  const { budget } = keyUse;
  return (
    <div className="key-note">
      <p className="muted" data-testid="key-use">
        {keyUse.source === 'own' ? 'Runs on your key' : 'Runs on the studio key'}
      </p>
      {budget?.warning === true && (
        <p className="budget-note" data-testid="budget-warning">
          80 % of your monthly budget is used
          {budget.remainingUsd != null && `: ${formatUsd(budget.remainingUsd)} left until ${formatResetDay(budget.resetsAt)}`}.
        </p>
      )}
    </div>
  );
}
