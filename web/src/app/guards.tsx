import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { useMe } from '../api/session';
import type { User } from '../api/types';
import { Alert } from '../components/Alert';
import { Loading } from '../components/Loading';
import { homePath, routes } from '../lib/routes';

function SessionError({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <main className="page page-narrow">
      <Alert tone="error">{message}</Alert>
      <button type="button" className="button" onClick={onRetry}>
        Try again
      </button>
    </main>
  );
}

/** Renders its children with the signed-in user; sends everyone else to sign in. */
export function RequireUser({ children }: { children: (user: User) => ReactNode }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <Loading />;
  if (me.isError) return <SessionError message={me.error.message} onRetry={() => void me.refetch()} />;
  if (me.data === null) return <Navigate to={routes.login.path} replace state={{ from: location.pathname }} />;
  return children(me.data);
}

/** Sign-in and sign-up pages: a signed-in visitor goes straight to the app. */
export function GuestOnly({ children }: { children: ReactNode }) {
  const me = useMe();
  if (me.isPending) return <Loading />;
  if (me.isSuccess && me.data !== null) return <Navigate to={homePath} replace />;
  // On an error other than 401 the forms still work and will show what the server says.
  return children;
}
