import { NavLink, Outlet, useNavigate } from 'react-router';
import type { User } from '../api/types';
import { Alert } from '../components/Alert';
import { SkipLink } from '../components/SkipLink';
import { useLogout } from '../features/auth';
import { navRoutesFor, routes } from '../lib/routes';

/** The signed-in frame: top navigation, who is signed in, sign out. */
export function AppShell({ user }: { user: User }) {
  const navigate = useNavigate();
  const logout = useLogout(() => void navigate(routes.login.path, { replace: true }));

  return (
    <div className="shell">
      <SkipLink />
      <header className="topbar">
        <span className="brand">fal-studio</span>
        <nav aria-label="Main">
          <ul>
            {navRoutesFor(user.role).map((route) => (
              <li key={route.path}>
                <NavLink to={route.path}>{route.title}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="account">
          <span className="account-email" data-testid="signed-in-email">
            {user.email}
          </span>
          <button
            type="button"
            className="button"
            disabled={logout.isPending}
            onClick={() => logout.mutate()}
          >
            {logout.isPending ? 'Signing out…' : 'Sign out'}
          </button>
        </div>
      </header>
      {logout.error && (
        <div className="shell-alert">
          <Alert tone="error">Could not sign out: {logout.error.message}</Alert>
        </div>
      )}
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
