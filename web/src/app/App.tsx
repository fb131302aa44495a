import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';
import { BrowserRouter, Link, Navigate, Route, Routes } from 'react-router';
import { ApiError } from '../api/client';
import { AssetViewerContext, type AssetViewerProps } from '../components/assetViewer';
import { Loading } from '../components/Loading';
import { Page } from '../components/Page';
import { TileGridSkeleton } from '../components/Skeleton';
import { LoginPage, SignupPage } from '../features/auth';
import { SettingsPage } from '../features/settings';
import { StudioPage } from '../features/studio';
import { homePath, routes } from '../lib/routes';
import { AppShell } from './AppShell';
import { GuestOnly, RequireUser } from './guards';

// The gallery is its own chunk: the studio (the landing page) does not wait for it.
const GalleryPage = lazy(() => import('../features/gallery').then((module) => ({ default: module.GalleryPage })));
// The viewer the studio opens its results in is the gallery's, fetched on the first opening.
const ResultViewer = lazy(() => import('../features/gallery/ResultViewer').then((module) => ({ default: module.ResultViewer })));
const renderResultViewer = (props: AssetViewerProps) => <ResultViewer {...props} />;
// So is the admin page, fetched only when an admin opens it.
const AdminPage = lazy(() => import('../features/admin').then((module) => ({ default: module.AdminPage })));

function createQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A 4xx will not change by asking again; a dropped connection or a 5xx might.
        retry: (failureCount, error) =>
          !(error instanceof ApiError && error.status >= 400 && error.status < 500) && failureCount < 2,
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}

function NotFound() {
  return (
    <Page title="Page not found" narrow>
      <p>
        There is nothing at this address. <Link to={homePath}>Go to the studio</Link>.
      </p>
    </Page>
  );
}

export function App() {
  const [queryClient] = useState(createQueryClient);
  return (
    <QueryClientProvider client={queryClient}>
      <AssetViewerContext.Provider value={renderResultViewer}>
        <BrowserRouter>
          <Routes>
            <Route path="/" element={<Navigate to={homePath} replace />} />
            <Route
              path={routes.login.path}
              element={
                <GuestOnly>
                  <main id="main">
                    <LoginPage />
                  </main>
                </GuestOnly>
              }
            />
            <Route
              path={routes.signup.path}
              element={
                <GuestOnly>
                  <main id="main">
                    <SignupPage />
                  </main>
                </GuestOnly>
              }
            />
            <Route element={<RequireUser>{(user) => <AppShell user={user} />}</RequireUser>}>
              <Route path={routes.studio.path} element={<RequireUser>{(user) => <StudioPage user={user} />}</RequireUser>} />
              <Route
                path={routes.gallery.path}
                element={
                  <Suspense
                    fallback={
                      <section className="page page-wide">
                        <TileGridSkeleton label="Loading the gallery…" />
                      </section>
                    }
                  >
                    <GalleryPage />
                  </Suspense>
                }
              />
              <Route
                path={routes.settings.path}
                element={<RequireUser>{(user) => <SettingsPage user={user} />}</RequireUser>}
              />
              <Route
                path={routes.admin.path}
                element={
                  <RequireUser>
                    {(user) =>
                      // Members get the same page as any unknown address: no admin request is made.
                      user.role === 'admin' ? (
                        <Suspense fallback={<Loading label="Loading the admin page…" />}>
                          <AdminPage user={user} />
                        </Suspense>
                      ) : (
                        <NotFound />
                      )
                    }
                  </RequireUser>
                }
              />
              <Route path="*" element={<NotFound />} />
            </Route>
          </Routes>
        </BrowserRouter>
      </AssetViewerContext.Provider>
    </QueryClientProvider>
  );
}
