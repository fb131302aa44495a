/**
 * The job queue's pure logic: keeping the cached list in step with the server (answers, events,
 * polls), grouping jobs by the click that made them, and the small formatting helpers.
 * The cached list is the user's recent unhidden jobs, newest first.
 */
import type { Job, JobStatus } from '../../api/types';

export const FINISHED_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);

export const isFinished = (job: Pick<Job, 'status'>) => FINISHED_STATUSES.has(job.status);

/**
 * How far along a status is: a job only moves forward, so an older snapshot never wins. A status
 * this table does not know ranks first (the document types `status` as any string).
 */
const RANK: Partial<Record<JobStatus, number>> = {
  queued: 0,
  submitting: 1,
  running: 2,
  storing: 3,
  completed: 4,
  failed: 4,
  cancelled: 4,
};

function time(value: string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? 0 : parsed;
}

/** Newest first; ties by id (ids sort by time). */
export function newestFirst(a: Job, b: Job): number {
  return time(b.createdAt) - time(a.createdAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** The snapshot to keep of two of the same job: the incoming one unless it is behind. */
function fresher(cached: Job | undefined, incoming: Job): Job {
  if (cached === undefined) return incoming;
  return (RANK[incoming.status] ?? 0) < (RANK[cached.status] ?? 0) ? cached : incoming;
}

/** Adds or replaces jobs by id (hidden ones leave the list). */
export function upsertJobs(current: readonly Job[] | undefined, incoming: readonly Job[]): Job[] {
  const byId = new Map((current ?? []).map((job) => [job.id, job]));
  for (const job of incoming) {
    const next = fresher(byId.get(job.id), job);
    if (next.hidden) byId.delete(job.id);
    else byId.set(job.id, next);
  }
  return [...byId.values()].sort(newestFirst);
}

/**
 * The answer of `GET /api/jobs` (the full recent list) replaces the cache, except that a cached
 * snapshot further along than the answer's wins, and an unfinished cached job newer than
 * everything in the answer is kept (it was created after the server answered).
 */
export function reconcileJobs(current: readonly Job[] | undefined, answer: readonly Job[]): Job[] {
  const cached = new Map((current ?? []).map((job) => [job.id, job]));
  const newestAnswered = answer.reduce((max, job) => Math.max(max, time(job.createdAt)), -Infinity);
  const out = answer
    .filter((job) => !job.hidden)
    .map((job) => fresher(cached.get(job.id), job));
  const answered = new Set(answer.map((job) => job.id));
  for (const job of current ?? []) {
    if (!answered.has(job.id) && !isFinished(job) && time(job.createdAt) > newestAnswered) out.push(job);
  }
  return out.filter((job) => !job.hidden).sort(newestFirst);
}

export interface JobGroup {
  groupId: string;
  label: string | null;
  /** Oldest first: the order they were asked for. */
  jobs: Job[];
  active: boolean;
}

/** Jobs by `groupId`, the group with the newest job first. */
export function groupJobs(jobs: readonly Job[]): JobGroup[] {
  const groups = new Map<string, JobGroup>();
  for (const job of [...jobs].sort(newestFirst)) {
    let group = groups.get(job.groupId);
    if (group === undefined) {
      group = { groupId: job.groupId, label: null, jobs: [], active: false };
      groups.set(job.groupId, group);
    }
    group.jobs.unshift(job);
    const label = job.groupLabel ?? null;
    if (group.label === null && label !== null && label.trim() !== '') group.label = label;
    if (!isFinished(job)) group.active = true;
  }
  return [...groups.values()];
}

/** The jobs "Clear finished" takes out of the queue: every finished one, or all but the failed ones. */
export function jobsToClear(jobs: readonly Job[], includeFailed: boolean): Job[] {
  return jobs.filter((job) => isFinished(job) && (includeFailed || job.status !== 'failed'));
}

/** The job's main text: the field its model's schema makes the prompt (`text` for speech), else `prompt`. */
export function promptOf(params: Record<string, unknown> | null | undefined, promptField?: string | null): string | null {
  const prompt = params?.[promptField ?? 'prompt'];
  return typeof prompt === 'string' && prompt.trim() !== '' ? prompt.trim() : null;
}

export function excerpt(text: string, max = 48): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (clean.length <= max) return clean;
  const cut = clean.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  // End on a whole word when one ends close enough to the cut.
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export const modelNameOf = (job: Pick<Job, 'modelName' | 'endpointId'>) =>
  job.modelName.trim() !== '' ? job.modelName : job.endpointId;

/** The group's own label, or what its first job was: "Seedream 4.0 · a red fox". */
export function groupTitle(group: JobGroup): string {
  if (group.label !== null) return group.label;
  const first = group.jobs[0];
  if (first === undefined) return 'Jobs';
  const prompt = promptOf(first.params, first.promptField);
  return prompt === null ? modelNameOf(first) : `${modelNameOf(first)} · ${excerpt(prompt)}`;
}

/** `m:ss`, or `h:mm:ss` from an hour on; never negative. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

export function elapsedBetween(from: string | null, to: string | number | null): number | null {
  if (from === null || to === null) return null;
  const start = time(from);
  const end = typeof to === 'number' ? to : time(to);
  return start === 0 || end === 0 ? null : end - start;
}

const STATUS_TEXT: Partial<Record<JobStatus, string>> = {
  queued: 'Queued',
  submitting: 'Submitting',
  running: 'Running',
  storing: 'Storing',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** A status as a word for people; one this table does not know, as the server wrote it. */
export const statusText = (status: JobStatus): string => STATUS_TEXT[status] ?? status;

/**
 * Where a job stands in fal's queue, as the server words it when it says nothing itself. fal
 * counts from 0 (0: next in line); people count from 1.
 */
export function falQueueLine(position: number): string {
  return position <= 0 ? 'In fal’s queue, next in line.' : `In fal’s queue, position ${position + 1}.`;
}

/**
 * What a completed job says about its files, when something is worth saying: fal returned none,
 * or some or all of them were deleted from the gallery since (`outputCount`, how many it stored,
 * is more than the `assets` it still has). Null when every file it stored is still there.
 */
export function filesNote(job: Pick<Job, 'status' | 'assets' | 'outputCount'>): { kind: 'none' | 'allDeleted' | 'someDeleted'; text: string } | null {
  if (job.status !== 'completed') return null;
  const stored = job.outputCount ?? null;
  const kept = job.assets.length;
  if (kept === 0 && (stored === null || stored === 0)) return { kind: 'none', text: 'fal returned no files.' };
  if (stored === null || kept >= stored) return null;
  if (kept === 0) {
    return { kind: 'allDeleted', text: stored === 1 ? 'Its file was deleted from the gallery.' : `Its ${stored} files were deleted from the gallery.` };
  }
  return { kind: 'someDeleted', text: `${stored - kept} of ${stored} files deleted from the gallery.` };
}

/**
 * The "#n" of each job of a group, counted among the group's jobs of the same model, for the
 * models that have more than one there: four runs of one model are #1–#4, while a compare of
 * three models has none (a retry of one of them makes that model's #1 and #2).
 */
export function runNumbers(jobs: readonly Pick<Job, 'id' | 'endpointId'>[]): Map<string, number> {
  const perModel = new Map<string, number>();
  for (const job of jobs) perModel.set(job.endpointId, (perModel.get(job.endpointId) ?? 0) + 1);
  const seen = new Map<string, number>();
  const numbers = new Map<string, number>();
  for (const job of jobs) {
    const n = (seen.get(job.endpointId) ?? 0) + 1;
    seen.set(job.endpointId, n);
    if ((perModel.get(job.endpointId) ?? 0) > 1) numbers.set(job.id, n);
  }
  return numbers;
}
