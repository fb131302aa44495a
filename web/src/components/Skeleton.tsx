import type { ReactNode } from 'react';

/**
 * Loading placeholders: grey shapes where the first answer will land (CSS only; the shine stops
 * under `prefers-reduced-motion`). Each is one `role="status"` with a spoken label; the shapes
 * themselves are hidden from assistive technology.
 */

function Status({ label, className, children }: { label: string; className: string; children: ReactNode }) {
  return (
    <div className={className} role="status" data-testid="skeleton">
      <span className="visually-hidden">{label}</span>
      <div aria-hidden="true">{children}</div>
    </div>
  );
}

const times = (count: number) => Array.from({ length: count }, (_, index) => index);

/** The model list: a thumbnail and two lines per row. */
export function ModelListSkeleton({ label = 'Loading models…', rows = 6 }: { label?: string; rows?: number }) {
  return (
    <Status label={label} className="skeleton-block">
      <ul className="skeleton-models">
        {times(rows).map((row) => (
          <li key={row} className="skeleton-model">
            <span className="skeleton skeleton-thumb" />
            <span className="skeleton-text">
              <span className="skeleton skeleton-line" />
              <span className="skeleton skeleton-line short" />
            </span>
          </li>
        ))}
      </ul>
    </Status>
  );
}

/** A model's settings form: a heading, a large prompt box, a few fields and the button. */
export function FormSkeleton({ label, card = true }: { label: string; card?: boolean }) {
  return (
    <Status label={label} className={card ? 'card skeleton-block' : 'skeleton-block'}>
      <div className="skeleton-form">
        <span className="skeleton skeleton-heading" />
        {[true, false, false].map((tall, index) => (
          <span key={index} className="skeleton-field">
            <span className="skeleton skeleton-label" />
            <span className={tall ? 'skeleton skeleton-input tall' : 'skeleton skeleton-input'} />
          </span>
        ))}
        <span className="skeleton skeleton-button" />
      </div>
    </Status>
  );
}

/** The gallery grid: square tiles. */
export function TileGridSkeleton({ label, tiles = 8 }: { label: string; tiles?: number }) {
  return (
    <Status label={label} className="skeleton-block">
      <div className="gallery-grid">
        {times(tiles).map((tile) => (
          <span key={tile} className="skeleton skeleton-tile" />
        ))}
      </div>
    </Status>
  );
}

/** The queue: a few job cards. */
export function JobListSkeleton({ label, rows = 3 }: { label: string; rows?: number }) {
  return (
    <Status label={label} className="skeleton-block">
      <ul className="skeleton-jobs">
        {times(rows).map((row) => (
          <li key={row} className="skeleton-job">
            <span className="skeleton skeleton-line" />
            <span className="skeleton skeleton-line short" />
          </li>
        ))}
      </ul>
    </Status>
  );
}
