import { useCallback, useSyncExternalStore } from 'react';

/** The phone layout's breakpoint (the same width as the CSS's `max-width: 640px`). */
export const PHONE_QUERY = '(max-width: 640px)';

/** Whether a media query matches now, following it as it changes; false without `matchMedia`. */
export function useMediaQuery(query: string): boolean {
  const subscribe = useCallback(
    (onChange: () => void) => {
      if (typeof window.matchMedia !== 'function') return () => {};
      const list = window.matchMedia(query);
      list.addEventListener('change', onChange);
      return () => list.removeEventListener('change', onChange);
    },
    [query],
  );
  return useSyncExternalStore(
    subscribe,
    () => typeof window.matchMedia === 'function' && window.matchMedia(query).matches,
    () => false,
  );
}
