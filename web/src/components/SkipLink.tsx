import type { MouseEvent } from 'react';

interface SkipLinkProps {
  /** The id of the element to move to: the page's `<main>` unless said. */
  target?: string;
  /** What the link says: "Skip to content" unless said. */
  label?: string;
}

/**
 * A skip link, visible only while focused: "Skip to content" is the first stop of the tab order;
 * a page may add its own past a long run of controls (the studio's "Skip to the form"). Moves
 * focus (not the URL: no `#main` in the address for the router to see) to the target.
 */
export function SkipLink({ target = 'main', label = 'Skip to content' }: SkipLinkProps) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    const element = document.getElementById(target);
    if (element === null) return;
    event.preventDefault();
    if (!element.hasAttribute('tabindex')) element.setAttribute('tabindex', '-1');
    element.focus();
    element.scrollIntoView?.({ block: 'start' });
  };
  return (
    <a className="skip-link" href={`#${target}`} onClick={onClick}>
      {label}
    </a>
  );
}
