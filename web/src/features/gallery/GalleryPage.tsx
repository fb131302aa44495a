import { Page } from '../../components/Page';
import { routes } from '../../lib/routes';

export function GalleryPage() {
  return (
    <Page title={routes.gallery.title}>
      <p className="placeholder">Your generated images and videos will appear here.</p>
    </Page>
  );
}
