import { useMyBudget } from '../../api/budget';
import type { MyBudget, User } from '../../api/types';
import { Alert } from '../../components/Alert';
import { Loading } from '../../components/Loading';
import { formatResetDay, formatUsd } from '../../lib/budget';

/** Which key the user's generations run on, in a sentence, and what to do when there is none. */
export function keySourceText(budget: Pick<MyBudget, 'keySource'>, user: Pick<User, 'mayUseStudioKey'>): string {
  switch (budget.keySource) {
    case 'own':
      return 'Your generations run on your own fal key.';
    case 'studio':
      return 'Your generations run on the studio’s fal key, which your admin set up for the team.';
    case 'none':
      return user.mayUseStudioKey
        ? 'No key: you may use the studio’s key, but none is saved yet. Add your own fal key above, or ask your admin to save the studio key.'
        : 'No key: add your own fal key above to generate, or ask your admin to let you use the studio’s key.';
  }
}

function Facts({ budget }: { budget: MyBudget }) {
  const limited = budget.budgetMonthlyUsd != null;
  return (
    <dl className="budget-facts" data-testid="budget-facts">
      <div>
        <dt>Monthly budget</dt>
        <dd>{limited ? formatUsd(budget.budgetMonthlyUsd ?? 0) : 'No limit'}</dd>
      </div>
      <div>
        <dt>Spent this month</dt>
        <dd>{formatUsd(budget.spentMonthUsd)}</dd>
      </div>
      <div>
        <dt>Reserved by waiting and running jobs</dt>
        <dd>{formatUsd(budget.reservedUsd)}</dd>
      </div>
      {budget.remainingUsd != null && (
        <div>
          <dt>Remaining</dt>
          <dd data-testid="budget-remaining">{formatUsd(budget.remainingUsd)}</dd>
        </div>
      )}
      <div>
        <dt>{limited ? 'Budget resets' : 'Month resets'}</dt>
        <dd>
          <time dateTime={budget.resetsAt}>{formatResetDay(budget.resetsAt)}</time>
        </dd>
      </div>
    </dl>
  );
}

/** The key the user's jobs run on and this month's budget (`GET /api/account/budget`). */
export function BudgetPanel({ user }: { user: User }) {
  const budget = useMyBudget();

  let body;
  if (budget.isPending) body = <Loading label="Loading your budget…" />;
  else if (budget.isError)
    body = (
      <>
        <Alert tone="error">Could not load your budget: {budget.error.message}</Alert>
        <button type="button" className="button" onClick={() => void budget.refetch()} disabled={budget.isFetching}>
          Try again
        </button>
      </>
    );
  else
    body = (
      <>
        <p data-testid="key-source" className={budget.data.keySource === 'none' ? 'key-status' : undefined}>
          {keySourceText(budget.data, user)}
        </p>
        {budget.data.warning && (
          <Alert tone="info">
            You have used 80 % or more of this month’s budget, counting jobs still waiting or running. New generations
            that would go over it are refused until {formatResetDay(budget.data.resetsAt)}.
          </Alert>
        )}
        <Facts budget={budget.data} />
        <p className="muted">
          Amounts are estimates at fal’s published prices.
          {budget.data.budgetMonthlyUsd != null && ' Your studio’s admin sets the budget.'}
        </p>
      </>
    );

  return (
    <section className="card" aria-labelledby="budget-heading">
      <h2 id="budget-heading">Key and budget</h2>
      {body}
    </section>
  );
}
