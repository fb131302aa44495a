import type { User } from '../../api/types';
import { Page } from '../../components/Page';
import { routes } from '../../lib/routes';
import { BudgetPanel } from './BudgetPanel';
import { CreditsPanel } from './CreditsPanel';
import { FalKeyForm } from './FalKeyForm';
import { PasswordPanel } from './PasswordPanel';
import { SpendPanel } from './SpendPanel';

export function SettingsPage({ user }: { user: User }) {
  return (
    <Page title={routes.settings.title}>
      <p className="muted">Signed in as {user.email}.</p>
      <FalKeyForm user={user} />
      {user.hasFalKey && <CreditsPanel />}
      <BudgetPanel user={user} />
      <SpendPanel />
      <PasswordPanel />
    </Page>
  );
}
