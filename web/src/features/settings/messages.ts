import type { ApiError } from '../../api/client';

export const NO_ADMIN_SCOPE = 'Credits unavailable for this key (it lacks admin scope).';

/** What to say when saving a key failed. */
export function saveKeyErrorMessage(error: ApiError): string {
  if (error.category === 'invalid_key') {
    return 'fal rejected this key. Check that you pasted the whole key (key id and secret, separated by a colon) and that it has not been revoked.';
  }
  if (error.category === 'network') {
    return error.status === 0
      ? `${error.message} Nothing was saved.`
      : 'fal could not be reached, so the key could not be checked and nothing was saved. Try again in a moment.';
  }
  return error.message;
}
