import { Alert } from '../../components/Alert';
import { useMyShares } from './api';
import { ShareRow } from './ShareDialog';

/** Every active share link of the signed-in person, each with Revoke. */
export function SharesPanel() {
  const shares = useMyShares();
  return (
    <section className="card" aria-labelledby="shares-heading">
      <h2 id="shares-heading">Shared links</h2>
      {shares.isPending && <p className="muted" role="status">Loading…</p>}
      {shares.isError && <Alert tone="error">Could not load your links: {shares.error.message}</Alert>}
      {shares.isSuccess && shares.data.shares.length === 0 && <p className="muted">You have not shared anything yet.</p>}
      {shares.isSuccess && shares.data.shares.length > 0 && (
        <ul className="share-list" aria-label="Shared links">
          {shares.data.shares.map((share) => (
            <ShareRow key={share.token} share={share} showAsset />
          ))}
        </ul>
      )}
    </section>
  );
}
