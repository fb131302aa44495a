/**
 * The root key of every model query: catalog pages, specs, estimates, favourites and recents.
 * Prices come with the key a user's jobs run on (none without one), so whatever changes that key
 * (saving or removing one's own fal key, the admin's studio key) invalidates everything under it
 * and the prices show at once, without a reload.
 */
export const modelsQueryKey = ['models'] as const;
