import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router';
import { Alert } from '../../components/Alert';
import { Page } from '../../components/Page';
import { TextField } from '../../components/TextField';
import { fieldErrors } from '../../lib/fieldErrors';
import { routes, safeReturnPath } from '../../lib/routes';
import { fieldSentence } from '../../lib/words';
import { useAuthMutation, useSignupPolicy, type SignupMode } from './api';

const FIELDS = ['email', 'password'] as const;
type Field = (typeof FIELDS)[number];
const LABELS: Record<Field, string> = { email: 'Email', password: 'Password' };

function returnPathFrom(state: unknown) {
  const from = typeof state === 'object' && state !== null ? (state as { from?: unknown }).from : undefined;
  return safeReturnPath(from);
}

/** Why this studio's sign-up form cannot be used right now, or `null` when it can. */
export function signupUnavailable(mode: SignupMode | undefined, invite: string | undefined): string | null {
  if (mode === 'closed') return 'Sign-up is closed on this studio. Ask its administrator to make you an account.';
  if (mode === 'invite' && invite === undefined) {
    return 'This studio signs people up by invitation. Open the invite link you were given, or ask its administrator for one.';
  }
  return null;
}

export function AuthForm({ mode }: { mode: 'login' | 'signup' }) {
  const isLogin = mode === 'login';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const mutation = useAuthMutation(mode);
  const navigate = useNavigate();
  const location = useLocation();
  const formErrorId = useId();
  const [searchParams] = useSearchParams();
  const invite = isLogin ? undefined : (searchParams.get('invite') ?? undefined);
  const policy = useSignupPolicy(!isLogin);
  const unavailable = isLogin ? null : signupUnavailable(policy.data?.mode, invite);

  const error = mutation.error;
  const form = useRef<HTMLFormElement>(null);
  // A problem with one field is said once, under that field, as a sentence; the banner is for
  // the rest (wrong password, a taken email, the server out of reach).
  const perField: Partial<Record<Field, string>> = {};
  for (const [field, message] of Object.entries(error ? fieldErrors(error.details, FIELDS) : {}) as [Field, string][]) {
    perField[field] = fieldSentence(LABELS[field], message);
  }
  const firstInvalid = FIELDS.find((field) => perField[field] !== undefined);
  const hasFieldErrors = firstInvalid !== undefined;
  // A form-level error about the credentials (wrong password, taken email) concerns both inputs.
  const formLevelInvalid = error !== null && !hasFieldErrors && error.category !== 'network' && error.category !== 'rate_limited';

  // With no banner to announce it, focus goes to the first field with a problem, which then reads
  // out its error; once the inputs are enabled again after the answer.
  useEffect(() => {
    if (error === null || firstInvalid === undefined) return;
    form.current?.querySelector<HTMLInputElement>(`input[name="${firstInvalid}"]`)?.focus();
  }, [error, firstInvalid]);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (mutation.isPending) return;
    mutation.mutate(
      { email: email.trim(), password, ...(invite === undefined ? {} : { invite }) },
      { onSuccess: () => void navigate(returnPathFrom(location.state), { replace: true }) },
    );
  }

  const title = isLogin ? routes.login.title : routes.signup.title;
  if (unavailable !== null) {
    return (
      <Page title={title} narrow>
        <Alert tone="info">{unavailable}</Alert>
        <p className="form-switch">
          Already have an account? <Link to={routes.login.path} state={location.state}>Sign in</Link>
        </p>
      </Page>
    );
  }
  return (
    <Page title={title} narrow>
      {invite !== undefined && <p className="muted">You were invited: choose the email and password you will sign in with.</p>}
      <form ref={form} className="card form" onSubmit={onSubmit} noValidate aria-describedby={error && !hasFieldErrors ? formErrorId : undefined}>
        {error && !hasFieldErrors && (
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
