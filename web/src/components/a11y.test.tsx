// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { FormSkeleton, JobListSkeleton, ModelListSkeleton, TileGridSkeleton } from './Skeleton';
import { SkipLink } from './SkipLink';

afterEach(cleanup);

describe('skeletons', () => {
  it('are one status each, named by their label, with the shapes hidden from assistive technology', () => {
    render(
      <>
        <ModelListSkeleton />
        <FormSkeleton label="Loading the model’s settings…" />
        <TileGridSkeleton label="Loading your gallery…" />
        <JobListSkeleton label="Loading your jobs…" />
      </>,
    );
    const statuses = screen.getAllByRole('status');
    expect(statuses.map((status) => status.textContent)).toEqual([
      'Loading models…',
      'Loading the model’s settings…',
      'Loading your gallery…',
      'Loading your jobs…',
    ]);
    for (const status of statuses) {
      expect(status.querySelector('[aria-hidden="true"] .skeleton')).not.toBeNull();
    }
  });
});

describe('SkipLink', () => {
  it('moves focus to <main> without touching the URL', () => {
    render(
      <>
        <SkipLink />
        <main id="main">content</main>
      </>,
    );
    const link = screen.getByRole('link', { name: 'Skip to content' });
    expect(link.getAttribute('href')).toBe('#main');
    const event = fireEvent.click(link);
    expect(event).toBe(false); // default prevented: no #main in the address
    expect(document.activeElement?.id).toBe('main');
    expect(document.getElementById('main')?.getAttribute('tabindex')).toBe('-1');
  });
});
