import { useId, useState, type FormEvent } from 'react';
import type { User } from '../../api/types';
import { Alert } from '../../components/Alert';
import { TextField } from '../../components/TextField';
import { useRemoveFalKey, useSaveFalKey, useSaveFalKeyConcurrency } from './api';
import { NO_ADMIN_SCOPE, saveKeyErrorMessage } from './messages';

/** The range the server accepts for a key's concurrent requests. */
const MAX_CONCURRENCY = 1000;
/** The most fal gives an account on its own; fal can raise a key past it on request. */
export const FAL_USUAL_MAX_CONCURRENCY = 40;
export const ABOVE_FAL_LIMIT = `fal’s accounts go up to ${FAL_USUAL_MAX_CONCURRENCY} unless fal raised yours.`;

/** A limit above what fal usually allows: saved all the same, with a word about it. */
function concurrencyNote(text: string): string | undefined {
  const value = Number(text.trim());
  return text.trim() !== '' && Number.isInteger(value) && value > FAL_USUAL_MAX_CONCURRENCY && value <= MAX_CONCURRENCY
    ? ABOVE_FAL_LIMIT
    : undefined;
}

/** `null` for an empty field (the studio's default), a whole number in range, or an error text. */
function parseConcurrency(text: string): number | null | string {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  if (!Number.isInteger(value) || value < 1 || value > MAX_CONCURRENCY) {
    return `Enter a whole number from 1 to ${MAX_CONCURRENCY}, or leave it empty.`;
  }
  return value;
}

export function FalKeyForm({ user }: { user: User }) {
  const [key, setKey] = useState('');
  const [concurrency, setConcurrency] = useState(
    user.falKeyConcurrency === undefined ? '' : String(user.falKeyConcurrency),
  );
  const [concurrencyError, setConcurrencyError] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirmingRemoval, setConfirmingRemoval] = useState(false);
  const save = useSaveFalKey();
  const saveLimit = useSaveFalKeyConcurrency();
  const remove = useRemoveFalKey();
  const removeErrorId = useId();
  const busy = save.isPending || saveLimit.isPending || remove.isPending;
  const keyError = save.error ? saveKeyErrorMessage(save.error) : undefined;
  const savedLimit = user.falKeyConcurrency ?? null;
  const typedLimit = parseConcurrency(concurrency);
  // With a key saved, an empty key field means "keep it": the form then saves the limit alone.
  const limitOnly = user.hasFalKey && key.trim() === '';
  const limitChanged = typedLimit !== savedLimit;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    setNotice(null);
    remove.reset();
    const trimmed = key.trim();
    if (trimmed === '' && !user.hasFalKey) return;
    const limit = parseConcurrency(concurrency);
    if (typeof limit === 'string') {
      setConcurrencyError(limit);
      return;
    }
    setConcurrencyError(undefined);
    if (trimmed === '') {
      save.reset();
      saveLimit.mutate(limit, {
        onSuccess: () =>
          setNotice(limit === null ? 'Limit saved: the studio’s default.' : `Limit saved: up to ${limit} requests at fal at once.`),
      });
      return;
    }
    saveLimit.reset();
    save.mutate({ key: trimmed, concurrency: limit }, {
      onSuccess: ({ credits }) => {
        setKey('');
        setNotice(credits === null ? `Key saved. ${NO_ADMIN_SCOPE}` : 'Key saved.');
      },
    });
  }

  function onRemove() {
    setNotice(null);
    save.reset();
    saveLimit.reset();
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
          hint={
            user.hasFalKey
              ? 'Looks like key-id:key-secret. Create one at fal.ai › Keys. Leave it empty to keep the saved key.'
              : 'Looks like key-id:key-secret. Create one at fal.ai › Keys.'
          }
          value={key}
          onChange={setKey}
          error={keyError}
          disabled={busy}
          required={!user.hasFalKey}
        />
        <TextField
          label="Requests at fal at once (optional)"
          name="concurrency"
          type="number"
          autoComplete="off"
          hint={`fal lets a new account run 2 requests at once and raises it up to ${FAL_USUAL_MAX_CONCURRENCY} as credits are bought; more jobs wait in the studio's queue. Empty: the studio's default.`}
          value={concurrency}
          onChange={(value) => {
            setConcurrency(value);
            setConcurrencyError(undefined);
            saveLimit.reset();
          }}
          note={concurrencyError === undefined ? concurrencyNote(concurrency) : undefined}
          error={concurrencyError ?? saveLimit.error?.message}
          disabled={busy}
        />
        <button type="submit" className="button button-primary" disabled={busy || (limitOnly ? !limitChanged : key.trim() === '')}>
          {save.isPending
            ? 'Checking key…'
            : saveLimit.isPending
              ? 'Saving limit…'
              : limitOnly && limitChanged
                ? 'Save limit'
                : user.hasFalKey
                  ? 'Replace key'
                  : 'Save key'}
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
