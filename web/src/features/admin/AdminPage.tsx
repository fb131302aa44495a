import type { User } from '../../api/types';
import { Page } from '../../components/Page';
import { routes } from '../../lib/routes';
import { SettingsPanel } from './SettingsPanel';
import { StudioKeyPanel } from './StudioKeyPanel';
import { UsagePanel } from './UsagePanel';
import { UsersPanel } from './UsersPanel';

/** The studio's administration (admins only; the route shows members "Page not found"). */
export function AdminPage({ user }: { user: User }) {
  return (
    <Page title={routes.admin.title} wide>
      <UsersPanel me={user} />
      <StudioKeyPanel />
      <SettingsPanel />
      <UsagePanel />
    </Page>
  );
}
