import { useId, useState, type FormEvent } from 'react';
import type { Job } from '../../api/types';
import { Alert } from '../../components/Alert';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { JobListSkeleton } from '../../components/Skeleton';
import { countOf } from '../../lib/words';
import { CategoryBadge, JobBody, JobStatusBadge, StatusBadge } from './JobView';
import { excerpt, groupJobs, groupTitle, isFinished, jobsToClear, modelNameOf, promptOf, runNumbers, type JobGroup } from './jobs';
import {
  useCancelGroup,
  useClearAllFinished,
  useClearFinished,
  useJobs,
  useRenameGroup,
  useSubmissions,
  type Submission,
} from './jobsApi';
import type { LiveState } from './useJobEvents';

const LIVE_TEXT: Record<LiveState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  polling: 'Reconnecting; checking every 2 s',
};

/** `run`: the job's number among its group's runs of the same model, when there are several. */
function JobItem({ job, run }: { job: Job; run: number | undefined }) {
  const prompt = promptOf(job.params, job.promptField);
  return (
    <li className={`job job-${job.status}`} data-status={job.status} data-job-id={job.id} aria-label={`${modelNameOf(job)} job`}>
      <div className="job-head">
        <span className="job-model">
          {modelNameOf(job)}
          {run !== undefined && <span className="muted"> #{run}</span>}
        </span>
        <JobStatusBadge job={job} />
      </div>
      {prompt !== null && <p className="job-prompt muted">{excerpt(prompt, 90)}</p>}
      <JobBody job={job} />
    </li>
  );
}

function GroupLabel({ group }: { group: JobGroup }) {
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState('');
  const rename = useRenameGroup();
  const inputId = useId();
  const title = groupTitle(group);

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const label = value.trim();
    if (label === '') return;
    rename.mutate({ groupId: group.groupId, label }, { onSuccess: () => setEditing(false) });
  };

  if (editing) {
    return (
      <form className="group-rename" onSubmit={onSubmit}>
        <label htmlFor={inputId} className="visually-hidden">
          Group label
        </label>
        <input
          id={inputId}
          className="group-input"
          value={value}
          maxLength={200}
          onChange={(event) => setValue(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Escape') setEditing(false);
          }}
          // The field appears because the person asked to rename: focus is expected there.
          autoFocus
        />
        <button type="submit" className="button button-small" disabled={rename.isPending}>
          Save
        </button>
        <button type="button" className="button button-small" onClick={() => setEditing(false)}>
          Cancel
        </button>
        {rename.error !== null && <p className="field-error">{rename.error.message}</p>}
      </form>
    );
  }
  return (
    <div className="group-title">
      <h3 className="group-label">{title}</h3>
      <button
        type="button"
        className="link-button"
        aria-label={`Rename “${title}”`}
        onClick={() => {
          setValue(group.label ?? title);
          setEditing(true);
        }}
      >
        Rename
      </button>
    </div>
  );
}

function GroupView({ group }: { group: JobGroup }) {
  const cancelAll = useCancelGroup();
  const hide = useClearFinished();
  const error = cancelAll.error ?? hide.error;
  const runs = runNumbers(group.jobs);
  return (
    <section className="job-group" aria-label={groupTitle(group)} data-group-id={group.groupId}>
      <header className="group-head">
        <GroupLabel group={group} />
        <div className="group-actions">
          {group.active && group.jobs.length > 1 && (
            <button
              type="button"
              className="button button-small"
              disabled={cancelAll.isPending}
              onClick={() => cancelAll.mutate(group.groupId)}
            >
              Cancel all
            </button>
          )}
          {!group.active && (
            <button type="button" className="button button-small" disabled={hide.isPending} onClick={() => hide.mutate(group.groupId)}>
              Hide
            </button>
          )}
        </div>
      </header>
      {error !== null && <p className="field-error">{error.message}</p>}
      <ul className="job-list">
        {group.jobs.map((job) => (
          <JobItem key={job.id} job={job} run={runs.get(job.id)} />
        ))}
      </ul>
    </section>
  );
}

function SubmissionItem({ item, onRetry, onDismiss }: { item: Submission; onRetry: () => void; onDismiss: () => void }) {
  const prompt = promptOf(paramsOf(item.form));
  return (
    <li className={`job job-${item.state === 'sending' ? 'submitting' : 'failed'}`} data-status={item.state === 'sending' ? 'sending' : 'refused'}>
      <div className="job-head">
        <span className="job-model">
          {item.modelName}
          {item.count > 1 && <span className="muted"> ×{item.count}</span>}
        </span>
        <StatusBadge status={item.state === 'sending' ? 'submitting' : 'failed'} label={item.state === 'sending' ? 'Sending' : 'Not sent'} />
      </div>
      {prompt !== null && <p className="job-prompt muted">{excerpt(prompt, 90)}</p>}
      {item.state === 'sending' && <p className="job-line">Sending to the studio server…</p>}
      {item.state === 'failed' && item.error !== null && (
        <>
          <div className="job-failure">
            <CategoryBadge error={item.error} />
            <p className="job-error">{item.error.message}</p>
          </div>
          <div className="job-actions">
            <button type="button" className="button button-small" onClick={onRetry}>
              Retry
            </button>
            <button type="button" className="button button-small" onClick={onDismiss}>
              Dismiss
            </button>
          </div>
        </>
      )}
    </li>
  );
}

function paramsOf(form: FormData): Record<string, unknown> | null {
  const raw = form.get('params');
  if (typeof raw !== 'string') return null;
  try {
    const parsed = JSON.parse(raw) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * "Clear finished", asked first: finished jobs leave the queue (their results stay in the
 * gallery); failed jobs and refused generations stay unless "Also clear failed" is ticked.
 */
function ClearFinishedDialog({ jobs, refused, onDone }: { jobs: readonly Job[]; refused: number; onDone: () => void }) {
  const [includeFailed, setIncludeFailed] = useState(false);
  const clear = useClearAllFinished();
  const { dismiss } = useSubmissions();
  const failed = jobs.filter((job) => job.status === 'failed').length + refused;
  const clearing = jobsToClear(jobs, includeFailed).length;

  const onConfirm = () => {
    if (includeFailed) dismiss(null);
    if (clearing === 0) {
      onDone();
      return;
    }
    clear.mutate({ includeFailed }, { onSuccess: onDone });
  };

  return (
    <ConfirmDialog
      title="Clear finished jobs?"
      confirmLabel="Clear"
      pendingLabel="Clearing…"
      pending={clear.isPending}
      error={clear.error === null ? null : `Could not clear: ${clear.error.message}`}
      onConfirm={onConfirm}
      onCancel={onDone}
    >
      <p>
        {clearing === 0
          ? 'There are no finished jobs to clear.'
          : `This takes ${countOf(clearing, 'finished job')} out of the queue; their results stay in the gallery.`}
      </p>
      {failed > 0 && (
        <label className="check">
          <input type="checkbox" checked={includeFailed} onChange={(event) => setIncludeFailed(event.target.checked)} />
          Also clear {countOf(failed, 'failed job')}
        </label>
      )}
      {failed > 0 && !includeFailed && (
        <p className="muted">
          Failed jobs stay, so you can read why and retry them.
        </p>
      )}
    </ConfirmDialog>
  );
}

/**
 * Every job the person started, grouped by the click that made them, each with its own state;
 * above them the generations still on their way to the server, or refused by it.
 */
export function QueuePanel({ live }: { live: LiveState }) {
  const headingId = useId();
  const jobs = useJobs();
  const { submissions, retry, dismiss } = useSubmissions();
  const [asking, setAsking] = useState(false);
  const groups = groupJobs(jobs.data ?? []);
  const refused = submissions.filter((item) => item.state === 'failed').length;
  const anyFinished = (jobs.data ?? []).some(isFinished) || refused > 0;

  return (
    <section className="card queue" aria-labelledby={headingId}>
      <header className="queue-head">
        <h2 id={headingId}>Queue</h2>
        <span className={`live live-${live}`} data-testid="live-state">
          {LIVE_TEXT[live]}
        </span>
        <button type="button" className="button button-small" disabled={!anyFinished} onClick={() => setAsking(true)}>
          Clear finished
        </button>
      </header>
      {asking && <ClearFinishedDialog jobs={jobs.data ?? []} refused={refused} onDone={() => setAsking(false)} />}
      {jobs.isPending && submissions.length === 0 && <JobListSkeleton label="Loading your jobs…" />}
      {jobs.isError && <Alert tone="error">Could not load your jobs: {jobs.error.message}</Alert>}
      {submissions.length > 0 && (
        <ul className="job-list" aria-label="Being sent">
          {submissions.map((item) => (
            <SubmissionItem
              key={item.id}
              item={item}
              onRetry={() => retry(item.id)}
              onDismiss={() => dismiss(item.id)}
            />
          ))}
        </ul>
      )}
      {groups.map((group) => (
        <GroupView key={group.groupId} group={group} />
      ))}
      {jobs.isSuccess && groups.length === 0 && submissions.length === 0 && (
        <p className="muted">Nothing yet: each Generate adds its jobs here, and you can keep going while they run.</p>
      )}
    </section>
  );
}
