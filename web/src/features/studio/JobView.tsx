import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { Link } from 'react-router';
import { useMyBudget } from '../../api/budget';
import { errorLabel } from '../../api/errors';
import { meQueryOptions } from '../../api/session';
import type { Asset, Job, JobError } from '../../api/types';
import { formatMoney } from '../../lib/money';
import { remixJobPath, routes } from '../../lib/routes';
import { elapsedBetween, falQueueLine, filesNote, formatElapsed, isFinished, modelNameOf, statusText } from './jobs';
import { useCancelJob, useRetryJob, useSubmit } from './jobsApi';
import { useOpenResult } from './resultViewer';
import { runAgainForm, seedOfJob } from './remix';
import { RequestView } from '../../components/RequestView';
import { useSpec } from './api';

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

/**
 * The way forward after fal turned down the key a job ran on. The job does not say which key that
 * was, so the advice follows the key the person's new jobs run on (and whether they are the admin
 * who keeps the studio key); while that is unknown, Settings is where a key is replaced.
 */
function KeyRejectedAdvice() {
  const budget = useMyBudget();
  // Only asked when it matters (usually answered from the app's cache): is this the admin?
  const me = useQuery({ ...meQueryOptions, enabled: budget.data?.keySource === 'studio' });
  const settings = <Link to={routes.settings.path}>{routes.settings.title}</Link>;
  switch (budget.data?.keySource) {
    case 'own':
      return <>Replace your fal key in {settings}, then retry.</>;
    case 'studio':
      return me.data?.role === 'admin' ? (
        <>
          Your jobs run on the studio key: replace it in{' '}
          <Link to={routes.admin.path}>{routes.admin.title}</Link>
          , then retry.
        </>
      ) : (
        <>Your jobs run on the studio key: ask your admin to replace it, or add your own fal key in {settings}.</>
      );
    case 'none':
      return <>Add a fal key that works in {settings}, then retry.</>;
    default:
      return <>Replace it in {settings}, then retry.</>;
  }
}

/**
 * Why a job failed: the kind of failure and its message. A key fal turned down says so in a
 * sentence with the way forward; the server's own words stay one click away.
 */
export function JobFailure({ error, className = '' }: { error: JobError | null; className?: string }) {
  const classes = `job-failure${className === '' ? '' : ` ${className}`}`;
  if (error?.category === 'invalid_key') {
    return (
      <div className={`${classes} job-failure-key`} data-testid="key-rejected">
        <p className="job-error">
          The fal key this job used was not accepted. <KeyRejectedAdvice />
        </p>
        <details className="job-error-details">
          <summary>Full message</summary>
          <p>{error.message}</p>
        </details>
      </div>
    );
  }
  return (
    <div className={classes}>
      {error !== null && <CategoryBadge error={error} />}
      <p className="job-error">{error?.message ?? 'The job failed without a reason.'}</p>
    </div>
  );
}

/**
 * The cost to show for a job: its estimate, once fal accepted it. A job refused before fal took
 * it (at the studio's door, or by fal on submission) costs nothing, so it shows no cost.
 */
export function costShown(job: Pick<Job, 'estimate' | 'requestId' | 'status'>): NonNullable<Job['estimate']> | null {
  const charged = job.requestId != null || job.status === 'completed';
  return charged ? (job.estimate ?? null) : null;
}

/** A small result in a job's card; it opens in the app's viewer, never as a raw file in a new tab. */
function AssetThumb({ asset, index, modelName, among }: { asset: Asset; index: number; modelName: string; among: readonly Asset[] }) {
  const open = useOpenResult();
  const name = `Result ${index + 1} of ${modelName}`;
  if (asset.resultKind === 'image') {
    const image = (
      <img
        className="asset-media"
        src={asset.thumbnailUrl ?? asset.url}
        alt={name}
        loading="lazy"
        decoding="async"
        width={asset.width ?? undefined}
        height={asset.height ?? undefined}
      />
    );
    if (open === null) return image;
    return (
      <button type="button" className="asset-link" title="Open in the viewer" onClick={(event) => open(asset, among, event.currentTarget)}>
        {image}
      </button>
    );
  }
  if (asset.resultKind === 'video' || asset.resultKind === 'audio') {
    return (
      <figure className="asset-figure">
        {asset.resultKind === 'video' ? (
          <video className="asset-media" src={asset.url} poster={asset.thumbnailUrl ?? undefined} controls preload="metadata" aria-label={name} />
        ) : (
          <audio className="asset-audio" src={asset.url} controls preload="metadata" aria-label={name} />
        )}
        {open !== null && (
          <figcaption>
            <button type="button" className="link-button" onClick={(event) => open(asset, among, event.currentTarget)}>
              Details<span className="visually-hidden"> of {name}</span>
            </button>
          </figcaption>
        )}
      </figure>
    );
  }
  if (open === null) {
    return (
      <span className="asset-other">
        {name} ({asset.contentType})
      </span>
    );
  }
  return (
    <button type="button" className="link-button asset-other" onClick={(event) => open(asset, among, event.currentTarget)}>
      {name} ({asset.contentType})
    </button>
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

/** The request of a job, its model's spec (usually cached) saying which reference fields are lists. */
function JobRequest({ job }: { job: Job }) {
  const spec = useSpec(job.references.length > 0 ? job.endpointId : null);
  return (
    <RequestView endpointId={job.endpointId} params={job.params} references={job.references} spec={spec.data ?? null} sentInput={job.sentInput ?? null} />
  );
}

/** What one job is doing now, with its own actions. Used by the queue and the compare grid. */
export function JobBody({ job }: { job: Job }) {
  const cancel = useCancelJob();
  const retry = useRetryJob();
  const submit = useSubmit();
  const [showRequest, setShowRequest] = useState(false);
  const requestId = useId();
  const { startedAt = null, queuePosition = null, error = null } = job;
  const estimate = costShown(job);
  const took = elapsedBetween(startedAt, job.finishedAt ?? null);
  const actionError = cancel.error ?? retry.error;
  const reason = job.waitReason ?? null;
  const files = filesNote(job);

  return (
    <div className="job-body">
      {job.status === 'queued' && (
        // The studio's own queue, not fal's: the server says why in words (whose turn, which key).
        <p className="job-line">{job.waitReason ?? 'Waiting for a free place in the studio.'}</p>
      )}
      {/* While fal is in trouble the server says so ("fal is unavailable (503), trying again: …"). */}
      {job.status === 'submitting' && <p className="job-line">{reason ?? 'Sending to fal…'}</p>}
      {job.status === 'running' && (reason !== null || queuePosition !== null) && (
        <p className="job-line">{reason ?? (queuePosition === null ? null : falQueueLine(queuePosition))}</p>
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

      {job.status === 'completed' && job.assets.length > 0 && (
        <ul className="job-assets" aria-label="Results">
          {job.assets.map((asset, index) => (
            <li key={asset.id}>
              <AssetThumb asset={asset} index={index} modelName={modelNameOf(job)} among={job.assets} />
            </li>
          ))}
        </ul>
      )}
      {files !== null && (
        <p className="job-line muted" data-testid="files-note">
          {files.text}
        </p>
      )}
      {job.status === 'failed' && <JobFailure error={error} />}
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
        {job.status === 'cancelled' && (
          // Sent as it was, at once: the new run joins the queue (a refusal shows there, with its own Retry).
          <button
            type="button"
            className="button button-small"
            onClick={() =>
              void submit(runAgainForm(job), { endpointId: job.endpointId, modelName: modelNameOf(job), count: 1, label: null }).catch(() => undefined)
            }
          >
            Run again
          </button>
        )}
        {isFinished(job) && (
          <Link className="button button-small" to={remixJobPath(job.id)}>
            Remix
          </Link>
        )}
        {isFinished(job) && seedOfJob(job) !== null && (
          <Link className="button button-small" to={remixJobPath(job.id, 'same')}>
            Remix with same seed
          </Link>
        )}
        <button
          type="button"
          className="button button-small"
          aria-expanded={showRequest}
          aria-controls={requestId}
          onClick={() => setShowRequest((value) => !value)}
        >
          Request
        </button>
      </div>
      {actionError !== null && <p className="field-error">{actionError.message}</p>}
      {showRequest && (
        <section id={requestId} className="job-request" aria-label={`Request sent to fal for ${modelNameOf(job)}`}>
          <JobRequest job={job} />
        </section>
      )}
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
