import { useEffect, useRef, useState } from 'react';
import type { UsageLine } from '../../api/types';
import { formatUsd } from '../../lib/budget';
import { estimateText } from './usage';

/**
 * The bar chart above the usage table. The chart library comes with `./barChart`, fetched the
 * first time a chart is drawn. The table carries the same numbers for anyone who cannot see the
 * chart, so the chart is one labelled image to assistive technology.
 */
export function UsageChart({ rows, label }: { rows: readonly UsageLine[]; label: string }) {
  const container = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<'loading' | 'drawn' | 'failed'>('loading');

  useEffect(() => {
    const element = container.current;
    if (element === null) return;
    let removed = false;
    let remove: (() => void) | null = null;
    import('./barChart')
      .then(({ drawBarChart }) => {
        if (removed) return;
        remove = drawBarChart(element, rows.map((row) => ({ label: row.label, value: row.estimatedUsd })), formatUsd);
        setState('drawn');
      })
      .catch(() => {
        if (!removed) setState('failed');
      });
    return () => {
      removed = true;
      remove?.();
    };
  }, [rows]);

  return (
    <div className="usage-chart-frame">
      <div
        ref={container}
        className="usage-chart"
        role="img"
        aria-label={`${label}: ${rows.map((row) => `${row.label} ${estimateText(row)}`).join(', ')}`}
        data-testid="usage-chart"
        data-state={state}
      />
      {state === 'loading' && (
        <p className="usage-chart-note muted" role="status">
          Loading the chart…
        </p>
      )}
      {state === 'failed' && <p className="usage-chart-note muted">The chart could not be loaded; the table below has the numbers.</p>}
    </div>
  );
}
