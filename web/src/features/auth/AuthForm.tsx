import { useId, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { Alert } from '../../components/Alert';
import { Page } from '../../components/Page';
import { TextField } from '../../components/TextField';
import { fieldErrors } from '../../lib/fieldErrors';
import { routes, safeReturnPath } from '../../lib/routes';
import { useAuthMutation } from './api';

const FIELDS = ['email', 'password'] as const;

function returnPathFrom(state: unknown) {
  const from = typeof state === 'object' && state !== null ? (state as { from?: unknown }).from : undefined;
  return safeReturnPath(from);
}

export function AuthForm({ mode }: { mode: 'login' | 'signup' }) {
  const isLogin = mode === 'login';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const mutation = useAuthMutation(mode);
  const navigate = useNavigate();
  const location = useLocation();
  const formErrorId = useId();

  const error = mutation.error;
  const perField = error ? fieldErrors(error.details, FIELDS) : {};
  const hasFieldErrors = Object.keys(perField).length > 0;
  // A form-level error about the credentials (wrong password, taken email) concerns both inputs.
  const formLevelInvalid = error !== null && !hasFieldErrors && error.category !== 'network' && error.category !== 'rate_limited';

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (mutation.isPending) return;
    mutation.mutate(
      { email: email.trim(), password },
      { onSuccess: () => void navigate(returnPathFrom(location.state), { replace: true }) },
    );
  }

  const title = isLogin ? routes.login.title : routes.signup.title;
  return (
    <Page title={title} narrow>
      <form className="card form" onSubmit={onSubmit} noValidate aria-describedby={error ? formErrorId : undefined}>
        {error && (
          <Alert id={formErrorId} tone="error">
            {error.message}
          </Alert>
        )}
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={setEmail}
          error={perField.email}
          formErrorId={formLevelInvalid ? formErrorId : undefined}
          disabled={mutation.isPending}
          required
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete={isLogin ? 'current-password' : 'new-password'}
          hint={isLogin ? undefined : 'At least 8 characters.'}
          value={password}
          onChange={setPassword}
          error={perField.password}
          formErrorId={formLevelInvalid ? formErrorId : undefined}
          disabled={mutation.isPending}
          required
        />
        <button type="submit" className="button button-primary" disabled={mutation.isPending}>
          {mutation.isPending
            ? isLogin
              ? 'Signing in…'
              : 'Creating account…'
            : isLogin
              ? 'Sign in'
              : 'Create account'}
        </button>
      </form>
      <p className="form-switch">
        {isLogin ? (
          <>
            New here? <Link to={routes.signup.path} state={location.state}>Create an account</Link>
          </>
        ) : (
          <>
            Already have an account? <Link to={routes.login.path} state={location.state}>Sign in</Link>
          </>
        )}
      </p>
    </Page>
  );
}
