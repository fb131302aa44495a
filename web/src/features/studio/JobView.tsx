import { useEffect, useId, useState } from 'react';
import { errorLabel } from '../../api/errors';
import type { Asset, Job } from '../../api/types';
import { formatMoney } from '../../lib/money';
import { elapsedBetween, formatElapsed, isFinished, modelNameOf, statusText } from './jobs';
import { useCancelJob, useRetryJob } from './jobsApi';

/** How many of the latest log lines a running job shows. */
export const LOG_LINES = 6;

/** Time since `from`, ticking every second while mounted. */
export function Elapsed({ from }: { from: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const ms = elapsedBetween(from, now);
  return (
    <span className="elapsed" data-testid="elapsed">
      {ms === null ? '' : formatElapsed(ms)}
    </span>
  );
}

/** A failure's kind in words ("Blocked by the content checker", "Out of fal credits"). */
export function CategoryBadge({ error }: { error: Parameters<typeof errorLabel>[0] }) {
  return (
    <span className="badge badge-error" data-testid="error-category">
      {errorLabel(error)}
    </span>
  );
}

function AssetThumb({ asset, index, modelName }: { asset: Asset; index: number; modelName: string }) {
  const name = `Result ${index + 1} of ${modelName}`;
  if (asset.resultKind === 'image') {
    return (
      <a href={asset.url} target="_blank" rel="noreferrer" className="asset-link" title="Open the full image">
        <img
          className="asset-media"
          src={asset.url}
          alt={name}
          loading="lazy"
          decoding="async"
          width={asset.width ?? undefined}
          height={asset.height ?? undefined}
        />
      </a>
    );
  }
  if (asset.resultKind === 'video' || asset.resultKind === 'audio') {
    return (
      <figure className="asset-figure">
        {asset.resultKind === 'video' ? (
          <video className="asset-media" src={asset.url} controls preload="metadata" aria-label={name} />
        ) : (
          <audio className="asset-audio" src={asset.url} controls preload="metadata" aria-label={name} />
        )}
        <figcaption>
          <a href={asset.url} target="_blank" rel="noreferrer">
            Open {asset.resultKind}
          </a>
        </figcaption>
      </figure>
    );
  }
  return (
    <a href={asset.url} target="_blank" rel="noreferrer" className="asset-other">
      {name} ({asset.contentType})
    </a>
  );
}

function Logs({ job }: { job: Job }) {
  const [open, setOpen] = useState(true);
  const id = useId();
  if (job.logs.length === 0) return null;
  const latest = job.logs.slice(-LOG_LINES);
  return (
    <div className="job-logs">
      <button
        type="button"
        className="link-button"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen((value) => !value)}
      >
        {open ? 'Hide logs' : `Show logs (${job.logs.length})`}
      </button>
      {open && (
        <ol id={id} className="log-lines" aria-label="Latest log lines">
          {latest.map((line, index) => (
            <li key={`${job.logs.length - latest.length + index}`} className={`log-${line.level.toLowerCase()}`}>
              {line.message}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/** What one job is doing now, with its own actions. Used by the queue and the compare grid. */
export function JobBody({ job }: { job: Job }) {
  const cancel = useCancelJob();
  const retry = useRetryJob();
  const { startedAt = null, queuePosition = null, error = null, estimate = null } = job;
  const took = elapsedBetween(startedAt, job.finishedAt ?? null);
  const actionError = cancel.error ?? retry.error;
  const reason = job.waitReason ?? null;

  return (
    <div className="job-body">
      {job.status === 'queued' && (
        // The studio's own queue, not fal's: the server says why in words (whose turn, which key).
        <p className="job-line">{job.waitReason ?? 'Waiting for a free place in the studio.'}</p>
      )}
      {/* While fal is in trouble the server says so ("fal is unavailable (503), trying again: …"). */}
      {job.status === 'submitting' && <p className="job-line">{reason ?? 'Sending to fal…'}</p>}
      {job.status === 'running' && (reason !== null || queuePosition !== null) && (
        <p className="job-line">{reason ?? `In fal’s queue, position ${queuePosition}.`}</p>
      )}
      {((job.status === 'running' && reason === null && queuePosition === null) || job.status === 'storing') && (
        <p className="job-line">
          {job.status === 'running' ? 'Running' : 'Saving the results'}
          {startedAt !== null && (
            <>
              {' · '}
              <Elapsed from={startedAt} />
            </>
          )}
        </p>
      )}
      {!isFinished(job) && <Logs job={job} />}

      {job.status === 'completed' && (
        <>
          {job.assets.length === 0 ? (
            <p className="job-line muted">fal returned no files.</p>
          ) : (
            <ul className="job-assets" aria-label="Results">
              {job.assets.map((asset, index) => (
                <li key={asset.id}>
                  <AssetThumb asset={asset} index={index} modelName={modelNameOf(job)} />
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      {job.status === 'failed' && (
        <div className="job-failure">
          {error !== null && <CategoryBadge error={error} />}
          <p className="job-error">{error?.message ?? 'The job failed without a reason.'}</p>
        </div>
      )}
      {job.status === 'cancelled' && <p className="job-line muted">Cancelled.</p>}

      {isFinished(job) && (took !== null || estimate !== null) && (
        <p className="job-meta muted">
          {took !== null && `took ${formatElapsed(took)}`}
          {took !== null && estimate !== null && ' · '}
          {estimate !== null && `est. ${formatMoney(estimate.totalCost, estimate.currency)}`}
        </p>
      )}

      <div className="job-actions">
        {!isFinished(job) && (
          <button type="button" className="button button-small" disabled={cancel.isPending} onClick={() => cancel.mutate(job.id)}>
            {cancel.isPending ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
        {job.status === 'failed' && (
          <button type="button" className="button button-small" disabled={retry.isPending} onClick={() => retry.mutate(job.id)}>
            {retry.isPending ? 'Retrying…' : 'Retry'}
          </button>
        )}
      </div>
      {actionError !== null && <p className="field-error">{actionError.message}</p>}
    </div>
  );
}

export function StatusBadge({ status, label }: { status: string; label: string }) {
  return (
    <span className={`badge badge-status status-${status}`} data-testid="job-status">
      {label}
    </span>
  );
}

export function JobStatusBadge({ job }: { job: Job }) {
  return <StatusBadge status={job.status} label={statusText(job.status)} />;
}
