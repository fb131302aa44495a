import { Alert } from '../../components/Alert';
import { Loading } from '../../components/Loading';
import { formatMoney } from '../../lib/money';
import { useCredits } from './api';
import { NO_ADMIN_SCOPE } from './messages';

export function CreditsPanel() {
  const credits = useCredits(true);

  let body;
  if (credits.isPending) {
    body = <Loading label="Loading credits…" />;
  } else if (credits.isError) {
    body = (
      <>
        <Alert tone="error">{credits.error.message}</Alert>
        <button type="button" className="button" onClick={() => void credits.refetch()} disabled={credits.isFetching}>
          Try again
        </button>
      </>
    );
  } else if (credits.data.balance == null) {
    body = <p className="muted">{NO_ADMIN_SCOPE}</p>;
  } else {
    body = (
      <p className="credits">
        Balance:{' '}
        <strong data-testid="credits-balance">{formatMoney(credits.data.balance, credits.data.currency ?? null)}</strong>
      </p>
    );
  }

  return (
    <section className="card" aria-labelledby="credits-heading">
      <h2 id="credits-heading">fal credits</h2>
      {body}
    </section>
  );
}
