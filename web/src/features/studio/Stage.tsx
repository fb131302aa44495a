import { useId } from 'react';
import type { Asset, Job } from '../../api/types';
import { formatMoney } from '../../lib/money';
import { formatDuration } from '../../lib/words';
import { Elapsed, JobFailure, JobStatusBadge, costShown } from './JobView';
import {
  elapsedBetween,
  excerpt,
  falQueueLine,
  filesNote,
  formatElapsed,
  groupJobs,
  groupTitle,
  isFinished,
  modelNameOf,
  runNumbers,
  type JobGroup,
} from './jobs';
import { useJobs, useSubmissions } from './jobsApi';
import { resultsOf, useOpenResult } from './resultViewer';

/** Seed, size and length of one result: what tells two runs of the same settings apart. */
function Facts({ asset }: { asset: Asset }) {
  const facts: [string, string][] = [];
  if (asset.seed != null) facts.push(['Seed', String(asset.seed)]);
  if (asset.width != null && asset.height != null) facts.push(['Size', `${asset.width} × ${asset.height}`]);
  if (asset.outputDuration != null) facts.push(['Duration', formatDuration(asset.outputDuration)]);
  if (facts.length === 0) return null;
  return (
    <dl className="stage-facts">
      {facts.map(([term, value]) => (
        <div key={term} data-fact={term.toLowerCase()}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function StageResult({ asset, label, among }: { asset: Asset; label: string; among: readonly Asset[] }) {
  const open = useOpenResult();
  const details =
    open === null ? null : (
      <button type="button" className="button button-small" onClick={(event) => open(asset, among, event.currentTarget)}>
        Details
        <span className="visually-hidden"> of {label}</span>
      </button>
    );
  let media;
  switch (asset.resultKind) {
    case 'image': {
      const image = (
        <img className="stage-media" src={asset.url} alt={label} decoding="async" width={asset.width ?? undefined} height={asset.height ?? undefined} />
      );
      media =
        open === null ? (
          image
        ) : (
          <button type="button" className="stage-open" title="Open in the viewer" onClick={(event) => open(asset, among, event.currentTarget)}>
            {image}
          </button>
        );
      break;
    }
    case 'video':
      // Clicking a video plays it; the viewer is one button away.
      media = <video className="stage-media" src={asset.url} poster={asset.thumbnailUrl ?? undefined} controls preload="metadata" playsInline aria-label={label} />;
      break;
    case 'audio':
      media = <audio className="stage-audio" src={asset.url} controls preload="metadata" aria-label={label} />;
      break;
    default:
      media = <p className="stage-other">{label} ({asset.contentType})</p>;
  }
  return (
    <figure className={`stage-result stage-${asset.resultKind}`} data-asset-id={asset.id}>
      <div className="stage-frame">{media}</div>
      <figcaption className="stage-caption">
        <Facts asset={asset} />
        {(asset.resultKind !== 'image' || open === null) && details}
      </figcaption>
    </figure>
  );
}

/** Where a job that has no result yet stands, in a frame the size its result will take. */
function Waiting({ job }: { job: Job }) {
  const { startedAt = null, error = null } = job;
  if (job.status === 'failed') return <JobFailure error={error} className="stage-frame stage-waiting" />;
  const reason = job.waitReason ?? null;
  const queuePosition = job.queuePosition ?? null;
  let line: string;
  if (job.status === 'cancelled') line = 'Cancelled.';
  // Completed without a file left to show: fal sent none, or they were deleted from the gallery.
  else if (job.status === 'completed') line = filesNote(job)?.text ?? 'fal returned no files.';
  else if (job.status === 'storing') line = 'Saving the results';
  else if (reason !== null) line = reason;
  else if (job.status === 'queued') line = 'Waiting for a free place in the studio.';
  else if (job.status === 'submitting') line = 'Sending to fal…';
  else if (queuePosition !== null) line = falQueueLine(queuePosition);
  else line = 'Running';
  return (
    <div className="stage-frame stage-waiting" aria-busy={!isFinished(job)}>
      <p className="job-line">
        {line}
        {(line === 'Running' || job.status === 'storing') && startedAt !== null && (
          <>
            {' · '}
            <Elapsed from={startedAt} />
          </>
        )}
      </p>
    </div>
  );
}

function StageJob({ job, run, among }: { job: Job; run: number | undefined; among: readonly Asset[] }) {
  const model = modelNameOf(job);
  const took = elapsedBetween(job.startedAt ?? null, job.finishedAt ?? null);
  const numbered = run === undefined ? '' : ` #${run}`;
  const cost = costShown(job);
  const files = filesNote(job);
  return (
    <li className="stage-job" data-stage-job={job.id} data-status={job.status}>
      <div className="stage-job-head">
        <span className="job-model">
          {model}
          {numbered !== '' && <span className="muted">{numbered}</span>}
        </span>
        <JobStatusBadge job={job} />
        {(cost !== null || (isFinished(job) && took !== null)) && (
          <span className="muted stage-cost" data-testid="stage-cost">
            {took !== null && isFinished(job) && `took ${formatElapsed(took)}`}
            {took !== null && isFinished(job) && cost !== null && ' · '}
            {cost !== null && `est. ${formatMoney(cost.totalCost, cost.currency)}`}
          </span>
        )}
      </div>
      {job.status === 'completed' && job.assets.length > 0 ? (
        <>
          <div className={`stage-results stage-results-${Math.min(job.assets.length, 4)}`}>
            {job.assets.map((asset, n) => (
              <StageResult key={asset.id} asset={asset} among={among} label={`Result ${job.assets.length > 1 ? `${n + 1} ` : ''}of ${model}${numbered}`} />
            ))}
          </div>
          {files !== null && (
            <p className="muted stage-files-note" data-testid="files-note">
              {files.text}
            </p>
          )}
        </>
      ) : (
        <Waiting job={job} />
      )}
    </li>
  );
}

/**
 * The studio's centre: the results of the latest Generate (or compare), large, each with its
 * state, seed, size, length and cost. Older runs stay in the queue and the gallery.
 */
export function Stage() {
  const headingId = useId();
  const jobs = useJobs();
  const { submissions } = useSubmissions();
  const latest: JobGroup | undefined = groupJobs(jobs.data ?? [])[0];
  const sending = submissions.filter((item) => item.state === 'sending').length;
  const among = latest === undefined ? [] : resultsOf(latest.jobs.filter((job) => job.status === 'completed'));
  const runs = runNumbers(latest?.jobs ?? []);

  return (
    <section className="card stage" aria-labelledby={headingId} data-testid="stage">
      <header className="stage-head">
        <h2 id={headingId}>Latest results</h2>
        {latest !== undefined && <p className="muted stage-title">{excerpt(groupTitle(latest), 120)}</p>}
        {sending > 0 && (
          <p className="muted" role="status">
            Sending {sending === 1 ? 'a generation' : `${sending} generations`} to the studio server…
          </p>
        )}
      </header>
      {latest === undefined ? (
        <p className="placeholder stage-empty">{jobs.isPending ? 'Loading your results…' : 'Your results appear here, large, as soon as they are ready.'}</p>
      ) : (
        <ul className={`stage-jobs${latest.jobs.length === 1 ? ' stage-jobs-single' : ''}`} aria-label="Jobs of the latest run">
          {latest.jobs.map((job) => (
            <StageJob key={job.id} job={job} run={runs.get(job.id)} among={among} />
          ))}
        </ul>
      )}
    </section>
  );
}
