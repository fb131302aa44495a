// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { SkipLink } from './SkipLink';

afterEach(cleanup);

describe('SkipLink', () => {
  it('takes a target and words of its own, and moves focus there', () => {
    render(
      <>
        <SkipLink />
        <SkipLink target="form-panel" label="Skip to the form" />
        <main id="main">
          <div id="form-panel">the form</div>
        </main>
      </>,
    );
    const links = screen.getAllByRole('link');
    expect(links.map((link) => link.textContent)).toEqual(['Skip to content', 'Skip to the form']);
    const toForm = screen.getByRole('link', { name: 'Skip to the form' });
    expect(toForm.getAttribute('href')).toBe('#form-panel');
    expect(fireEvent.click(toForm)).toBe(false);
    expect(document.activeElement?.id).toBe('form-panel');
    expect(document.getElementById('form-panel')?.getAttribute('tabindex')).toBe('-1');
  });

  it('leaves the link to the browser when the target is missing', () => {
    render(<SkipLink target="nowhere" label="Skip to the form" />);
    expect(fireEvent.click(screen.getByRole('link', { name: 'Skip to the form' }))).toBe(true);
  });
});
