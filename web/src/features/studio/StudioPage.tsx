import { Link } from 'react-router';
import type { User } from '../../api/types';
import { Alert } from '../../components/Alert';
import { Page } from '../../components/Page';
import { routes } from '../../lib/routes';

export function StudioPage({ user }: { user: User }) {
  return (
    <Page title={routes.studio.title}>
      {user.hasFalKey ? (
        <p className="placeholder">Pick a model and start generating. The model picker is coming soon.</p>
      ) : (
        <Alert tone="info">
          To generate images and videos, add your fal key in{' '}
          <Link to={routes.settings.path}>{routes.settings.title}</Link>.
        </Alert>
      )}
    </Page>
  );
}
