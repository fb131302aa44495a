import type { Role } from '../api/types';

/** Every page of the app, in one typed table. Link with `routes.settings.path`, never a literal. */
export const routes = {
  login: { path: '/login', title: 'Sign in', requiresAuth: false },
  signup: { path: '/signup', title: 'Create an account', requiresAuth: false },
  studio: { path: '/studio', title: 'Studio', requiresAuth: true },
  gallery: { path: '/gallery', title: 'Gallery', requiresAuth: true },
  settings: { path: '/settings', title: 'Settings', requiresAuth: true },
  /** Admins only: members who open it get the app's "Page not found". */
  admin: { path: '/admin', title: 'Admin', requiresAuth: true },
} as const satisfies Record<string, { path: `/${string}`; title: string; requiresAuth: boolean }>;

export type RouteName = keyof typeof routes;
export type AppPath = (typeof routes)[RouteName]['path'];

/** Where `/` and a finished sign-in go. */
export const homePath: AppPath = routes.studio.path;

/** The pages in the top navigation, in order. */
export const navRoutes = [routes.studio, routes.gallery, routes.settings] as const;

/** The top navigation for someone with this role: admins also get the admin page. */
export function navRoutesFor(role: Role) {
  return role === 'admin' ? [...navRoutes, routes.admin] : [...navRoutes];
}

/** Keeps a post-sign-in redirect inside the app: only known signed-in pages are accepted. */
export function safeReturnPath(candidate: unknown): AppPath {
  const known = Object.values(routes).find(
    (route) => route.requiresAuth && route.path === candidate,
  );
  return known?.path ?? homePath;
}

const seedSuffix = (seed: 'same' | 'new') => (seed === 'same' ? '&seed=same' : '');

/** The studio with an asset's model, settings and references filled in (`?remix=`), its seed kept on request. */
export const remixPath = (assetId: string, seed: 'same' | 'new' = 'new') =>
  `${routes.studio.path}?remix=${encodeURIComponent(assetId)}${seedSuffix(seed)}`;

/** The same for a job of the queue (`?remixJob=`): a cancelled or failed one has no asset. */
export const remixJobPath = (jobId: string, seed: 'same' | 'new' = 'new') =>
  `${routes.studio.path}?remixJob=${encodeURIComponent(jobId)}${seedSuffix(seed)}`;

/** The studio with an asset attached as the selected model's reference image (`?reference=`). */
export const referencePath = (assetId: string) => `${routes.studio.path}?reference=${encodeURIComponent(assetId)}`;
