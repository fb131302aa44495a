import { useId, useState, type FormEvent } from 'react';
import type { User } from '../../api/types';
import { Alert } from '../../components/Alert';
import { TextField } from '../../components/TextField';
import { useRemoveFalKey, useSaveFalKey } from './api';
import { NO_ADMIN_SCOPE, saveKeyErrorMessage } from './messages';

export function FalKeyForm({ user }: { user: User }) {
  const [key, setKey] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const [confirmingRemoval, setConfirmingRemoval] = useState(false);
  const save = useSaveFalKey();
  const remove = useRemoveFalKey();
  const removeErrorId = useId();
  const busy = save.isPending || remove.isPending;
  const keyError = save.error ? saveKeyErrorMessage(save.error) : undefined;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    setNotice(null);
    remove.reset();
    const trimmed = key.trim();
    if (trimmed === '') return;
    save.mutate(trimmed, {
      onSuccess: ({ credits }) => {
        setKey('');
        setNotice(credits === null ? `Key saved. ${NO_ADMIN_SCOPE}` : 'Key saved.');
      },
    });
  }

  function onRemove() {
    setNotice(null);
    save.reset();
    remove.mutate(undefined, {
      onSuccess: () => {
        setConfirmingRemoval(false);
        setNotice('Key removed.');
      },
    });
  }

  return (
    <section className="card" aria-labelledby="fal-key-heading">
      <h2 id="fal-key-heading">Your fal key</h2>
      <p data-testid="fal-key-status" className={user.hasFalKey ? 'key-status key-saved' : 'key-status'}>
        {user.hasFalKey ? 'A fal key is saved.' : 'No fal key saved yet.'}
      </p>
      <p className="muted">
        Your key is checked with fal, then stored encrypted on this server. It is never shown again.
      </p>
      {notice !== null && <Alert tone="success">{notice}</Alert>}

      <form className="form key-form" onSubmit={onSubmit} noValidate>
        <TextField
          label={user.hasFalKey ? 'New fal API key' : 'fal API key'}
          name="key"
          type="password"
          autoComplete="off"
          hint="Looks like key-id:key-secret. Create one at fal.ai › Keys."
          value={key}
          onChange={setKey}
          error={keyError}
          disabled={busy}
          required
        />
        <button type="submit" className="button button-primary" disabled={busy || key.trim() === ''}>
          {save.isPending ? 'Checking key…' : user.hasFalKey ? 'Replace key' : 'Save key'}
        </button>
      </form>

      {user.hasFalKey && (
        <div className="danger-zone">
          {remove.error && (
            <Alert id={removeErrorId} tone="error">
              {remove.error.message}
            </Alert>
          )}
          {confirmingRemoval ? (
            <div className="confirm" role="group" aria-label="Confirm key removal">
              <p>Remove the saved fal key? You will not be able to generate until you add one again.</p>
              <button type="button" className="button button-danger" onClick={onRemove} disabled={busy}>
                {remove.isPending ? 'Removing…' : 'Yes, remove key'}
              </button>
              <button type="button" className="button" onClick={() => setConfirmingRemoval(false)} disabled={busy}>
                Cancel
              </button>
            </div>
          ) : (
            <button
              type="button"
              className="button button-danger"
              onClick={() => {
                setNotice(null);
                setConfirmingRemoval(true);
              }}
              disabled={busy}
            >
              Remove key
            </button>
          )}
        </div>
      )}
    </section>
  );
}
