import type { MouseEvent } from 'react';

/**
 * "Skip to content": the first stop of the tab order, visible only while focused. Moves focus
 * (not the URL: no `#main` in the address for the router to see) to the page's `<main>`.
 */
export function SkipLink({ target = 'main' }: { target?: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    const main = document.getElementById(target);
    if (main === null) return;
    event.preventDefault();
    if (!main.hasAttribute('tabindex')) main.setAttribute('tabindex', '-1');
    main.focus();
    main.scrollIntoView?.({ block: 'start' });
  };
  return (
    <a className="skip-link" href={`#${target}`} onClick={onClick}>
      Skip to content
    </a>
  );
}
