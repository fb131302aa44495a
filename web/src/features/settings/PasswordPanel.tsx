import { useId, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { Alert } from '../../components/Alert';
import { TextField } from '../../components/TextField';
import { fieldErrors } from '../../lib/fieldErrors';
import { routes } from '../../lib/routes';
import { useChangePassword, useLogoutEverywhere } from './api';

const FIELDS = ['currentPassword', 'newPassword'] as const;

/** Change the password (other devices are signed out), or sign out on every device. */
export function PasswordPanel() {
  const [currentPassword, setCurrentPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const change = useChangePassword();
  const navigate = useNavigate();
  const everywhere = useLogoutEverywhere(() => void navigate(routes.login.path, { replace: true }));
  const formErrorId = useId();
  const busy = change.isPending || everywhere.isPending;

  const error = change.error;
  const perField = error ? fieldErrors(error.details, FIELDS) : {};
  const formLevel = error !== null && Object.keys(perField).length === 0;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    setNotice(null);
    change.mutate(
      { currentPassword, newPassword },
      {
        onSuccess: () => {
          setCurrentPassword('');
          setNewPassword('');
          setNotice('Password changed. Your other devices have been signed out.');
        },
      },
    );
  }

  return (
    <section className="card" aria-labelledby="password-heading">
      <h2 id="password-heading">Password and sessions</h2>
      {notice !== null && <Alert tone="success">{notice}</Alert>}
      {formLevel && (
        <Alert id={formErrorId} tone="error">
          {error.message}
        </Alert>
      )}
      <form className="form" onSubmit={onSubmit} noValidate>
        <TextField
          label="Current password"
          name="currentPassword"
          type="password"
          autoComplete="current-password"
          value={currentPassword}
          onChange={setCurrentPassword}
          error={perField.currentPassword}
          disabled={busy}
          required
        />
        <TextField
          label="New password"
          name="newPassword"
          type="password"
          autoComplete="new-password"
          hint="At least 8 characters. Your other devices will be signed out."
          value={newPassword}
          onChange={setNewPassword}
          error={perField.newPassword}
          disabled={busy}
          required
        />
        <button
          type="submit"
          className="button button-primary"
          disabled={busy || currentPassword === '' || newPassword === ''}
        >
          {change.isPending ? 'Changing password…' : 'Change password'}
        </button>
      </form>
      <div className="danger-zone">
        {everywhere.error && <Alert tone="error">{everywhere.error.message}</Alert>}
        <p className="muted">Lost a device, or signed in somewhere you should not have? End every session at once.</p>
        <button type="button" className="button button-danger" onClick={() => everywhere.mutate()} disabled={busy}>
          {everywhere.isPending ? 'Signing out…' : 'Sign out everywhere'}
        </button>
      </div>
    </section>
  );
}
