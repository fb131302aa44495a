import { useCallback, useState } from 'react';

type Listener = (near: boolean) => void;
const listeners = new WeakMap<Element, Listener>();
let shared: IntersectionObserver | null = null;

/** One observer for every tile (thousands of observers would cost more than the tiles). */
function observer(): IntersectionObserver | null {
  if (typeof IntersectionObserver === 'undefined') return null;
  shared ??= new IntersectionObserver(
    (entries) => {
      for (const entry of entries) listeners.get(entry.target)?.(entry.isIntersecting);
    },
    { rootMargin: '400px 0px' },
  );
  return shared;
}

/**
 * Whether the element has come near the viewport (once true, it stays true). A callback ref:
 * attach it with `ref={ref}`. Without IntersectionObserver everything counts as near.
 */
export function useNearViewport<T extends Element>(): [(element: T | null) => void, boolean] {
  const [near, setNear] = useState(() => typeof IntersectionObserver === 'undefined');
  const ref = useCallback((element: T | null) => {
    const io = observer();
    if (element === null || io === null) return;
    listeners.set(element, (now) => {
      if (!now) return;
      setNear(true);
      io.unobserve(element);
      listeners.delete(element);
    });
    io.observe(element);
    return () => {
      io.unobserve(element);
      listeners.delete(element);
    };
  }, []);
  return [ref, near];
}
