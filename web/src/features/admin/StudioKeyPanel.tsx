import { useState, type FormEvent } from 'react';
import type { ApiError } from '../../api/client';
import { Alert } from '../../components/Alert';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Loading } from '../../components/Loading';
import { TextField } from '../../components/TextField';
import { useRemoveStudioKey, useSaveStudioKey, useStudioKey } from './api';

function saveErrorMessage(error: ApiError): string {
  if (error.category === 'invalid_key') {
    return 'fal rejected this key. Check that you pasted the whole key (key id and secret, separated by a colon) and that it has not been revoked. Nothing was saved.';
  }
  return error.message;
}

/**
 * The studio's own fal key, for members allowed to use it. Only whether one is saved and its
 * public half are ever shown; what is typed is cleared once saved.
 */
export function StudioKeyPanel() {
  const state = useStudioKey();
  const save = useSaveStudioKey();
  const remove = useRemoveStudioKey();
  const [key, setKey] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const present = state.data?.present === true;
  const busy = save.isPending || remove.isPending;

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (busy || trimmed === '') return;
    setNotice(null);
    remove.reset();
    save.mutate(trimmed, {
      onSuccess: () => {
        setKey('');
        setNotice('Studio key saved.');
      },
    });
  };

  let status;
  if (state.isPending) status = <Loading label="Loading the studio key…" />;
  else if (state.isError) status = <Alert tone="error">Could not load the studio key: {state.error.message}</Alert>;
  else
    status = (
      <p data-testid="studio-key-status" className={present ? 'key-status key-saved' : 'key-status'}>
        {present ? (
          <>
            A studio key is saved
            {state.data.keyId != null && (
              <>
                {' '}
                (key id <code>{state.data.keyId}</code>)
              </>
            )}
            .
          </>
        ) : (
          'No studio key saved.'
        )}
      </p>
    );

  return (
    <section className="card" aria-labelledby="studio-key-heading">
      <h2 id="studio-key-heading">Studio key</h2>
      <p className="muted">
        Members you allow in Accounts generate on this key when they have none of their own. It is checked with fal,
        stored encrypted, and never shown again.
      </p>
      {status}
      {notice !== null && <Alert tone="success">{notice}</Alert>}
      <form className="form key-form" onSubmit={onSubmit} noValidate>
        <TextField
          label={present ? 'New studio fal key' : 'Studio fal key'}
          name="studio-key"
          type="password"
          autoComplete="off"
          hint="Looks like key-id:key-secret. Create one at fal.ai › Keys."
          value={key}
          onChange={setKey}
          error={save.error ? saveErrorMessage(save.error) : undefined}
          disabled={busy}
          required
        />
        <button type="submit" className="button button-primary" disabled={busy || key.trim() === ''}>
          {save.isPending ? 'Checking key…' : present ? 'Replace studio key' : 'Save studio key'}
        </button>
      </form>
      {present && (
        <div className="danger-zone">
          <button
            type="button"
            className="button button-danger"
            disabled={busy}
            onClick={() => {
              setNotice(null);
              save.reset();
              remove.reset();
              setConfirming(true);
            }}
          >
            Remove studio key
          </button>
        </div>
      )}
      {confirming && (
        <ConfirmDialog
          title="Remove the studio key?"
          confirmLabel="Remove studio key"
          pendingLabel="Removing…"
          pending={remove.isPending}
          error={remove.error?.message ?? null}
          onCancel={() => setConfirming(false)}
          onConfirm={() =>
            remove.mutate(undefined, {
              onSuccess: () => {
                setConfirming(false);
                setNotice('Studio key removed.');
              },
            })
          }
        >
          <p>
            Members without a key of their own cannot generate until a studio key is saved again, and their waiting jobs
            fail, saying why.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
