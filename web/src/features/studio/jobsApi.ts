/**
 * The job queue's endpoints: the recent-jobs query (one cache entry, `jobKeys.list`, that answers,
 * events and the fallback refetches all write into), the per-job and per-group actions, and the
 * generation submissions (`POST /api/generations`), mutations that never block: each is its own
 * entry in the mutation cache until it answers.
 */
import { queryOptions, useMutation, useMutationState, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { budgetQueryKey, spendQueryPrefix } from '../../api/budget';
import { ApiError, api } from '../../api/client';
import type { GenerationResponse, Job, JobList, JobResponse } from '../../api/types';
import { isFinished, jobsToClear, reconcileJobs, upsertJobs } from './jobs';

export const JOBS_LIMIT = 50;

export const jobKeys = {
  list: ['jobs', 'list'] as const,
};

const fetchJobs = (signal?: AbortSignal) =>
  api.get<JobList>(`/api/jobs?limit=${JOBS_LIMIT}`, signal === undefined ? {} : { signal });

export function putJobs(queryClient: QueryClient, jobs: readonly Job[]) {
  const before = new Map((queryClient.getQueryData<Job[]>(jobKeys.list) ?? []).map((job) => [job.id, job.status]));
  queryClient.setQueryData<Job[]>(jobKeys.list, (current) => upsertJobs(current, jobs));
  // A job that ends turns its reservation into spend (or releases it): the budget beside
  // Generate and the spend report are read again, not left as they were when it was queued.
  if (jobs.some((job) => isFinished(job) && before.get(job.id) !== job.status)) {
    void queryClient.invalidateQueries({ queryKey: budgetQueryKey });
    void queryClient.invalidateQueries({ queryKey: spendQueryPrefix });
  }
}

/**
 * The recent-jobs query, shared by its readers and by `useJobEvents` (which adds a
 * `refetchInterval` while the event stream is down). Kept fresh by events, not by refetching.
 */
export const jobListOptions = (queryClient: QueryClient) =>
  queryOptions({
    queryKey: jobKeys.list,
    queryFn: async ({ signal }) => {
      const { jobs } = await fetchJobs(signal);
      return reconcileJobs(queryClient.getQueryData<Job[]>(jobKeys.list), jobs);
    },
    staleTime: 30_000,
  });

/** The user's recent unhidden jobs, newest first. */
export function useJobs() {
  return useQuery(jobListOptions(useQueryClient()));
}

/** One job (`GET /api/jobs/{id}`), for `?remixJob=`: it may have left the recent list. */
export function useJob(id: string | null) {
  return useQuery({
    queryKey: ['jobs', 'one', id ?? ''] as const,
    queryFn: async ({ signal }) => (await api.get<JobResponse>(`/api/jobs/${encodeURIComponent(id ?? '')}`, { signal })).job,
    enabled: id !== null,
    staleTime: 30_000,
  });
}

export function useCancelJob() {
  const queryClient = useQueryClient();
  return useMutation<JobResponse, ApiError, string>({
    mutationFn: (id) => api.post<JobResponse>(`/api/jobs/${encodeURIComponent(id)}/cancel`),
    onSuccess: ({ job }) => putJobs(queryClient, [job]),
  });
}

export function useRetryJob() {
  const queryClient = useQueryClient();
  return useMutation<JobResponse, ApiError, string>({
    mutationFn: (id) => api.post<JobResponse>(`/api/jobs/${encodeURIComponent(id)}/retry`),
    onSuccess: ({ job }) => putJobs(queryClient, [job]),
  });
}

/** Hides every finished job, or those of one group (`Hide`). */
export function useClearFinished() {
  const queryClient = useQueryClient();
  return useMutation<{ hidden: number }, ApiError, string | null>({
    mutationFn: (groupId) =>
      api.post<{ hidden: number }>('/api/jobs/clear-finished', groupId === null ? undefined : { groupId }),
    onSuccess: (_answer, groupId) =>
      queryClient.setQueryData<Job[]>(jobKeys.list, (current) =>
        (current ?? []).filter((job) => !(isFinished(job) && (groupId === null || job.groupId === groupId))),
      ),
  });
}

/**
 * "Clear finished" for the whole queue: every finished job, or (`includeFailed: false`) all but
 * the failed ones, which the server leaves out itself.
 */
export function useClearAllFinished() {
  const queryClient = useQueryClient();
  return useMutation<{ hidden: number; cleared: ReadonlySet<string> }, ApiError, { includeFailed: boolean }>({
    mutationFn: async ({ includeFailed }) => {
      const jobs = queryClient.getQueryData<Job[]>(jobKeys.list) ?? [];
      const cleared = new Set(jobsToClear(jobs, includeFailed).map((job) => job.id));
      const answer = await api.post<{ hidden: number }>('/api/jobs/clear-finished', includeFailed ? undefined : { includeFailed: false });
      return { ...answer, cleared };
    },
    onSuccess: ({ cleared }) =>
      queryClient.setQueryData<Job[]>(jobKeys.list, (current) => (current ?? []).filter((job) => !cleared.has(job.id))),
  });
}

export function useRenameGroup() {
  const queryClient = useQueryClient();
  return useMutation<{ groupId: string; label: string | null }, ApiError, { groupId: string; label: string }>({
    mutationFn: ({ groupId, label }) =>
      api.patch<{ groupId: string; label: string | null }>(`/api/groups/${encodeURIComponent(groupId)}`, { label }),
    onSuccess: ({ groupId, label }) =>
      queryClient.setQueryData<Job[]>(jobKeys.list, (current) =>
        (current ?? []).map((job) => (job.groupId === groupId ? { ...job, groupLabel: label } : job)),
      ),
  });
}

export function useCancelGroup() {
  const queryClient = useQueryClient();
  return useMutation<JobList, ApiError, string>({
    mutationFn: (groupId) => api.post<JobList>(`/api/groups/${encodeURIComponent(groupId)}/cancel`),
    onSuccess: ({ jobs }) => putJobs(queryClient, jobs),
  });
}

// ---------------------------------------------------------------------------------------------
// Submissions

export interface SubmitMeta {
  endpointId: string;
  modelName: string;
  count: number;
  label: string | null;
}

/** What one `POST /api/generations` sends: the form, and what the queue says about it meanwhile. */
interface SubmitVariables {
  form: FormData;
  meta: SubmitMeta;
}

/** A `POST /api/generations` not answered yet, or refused (kept so the person sees why). */
export interface Submission extends SubmitMeta {
  /** The mutation's id in TanStack Query's mutation cache. */
  id: number;
  state: 'sending' | 'failed';
  error: ApiError | null;
  form: FormData;
}

export type Submit = (form: FormData, meta: SubmitMeta) => Promise<GenerationResponse>;

/** Every generation is a mutation under this key, so the queue can list them wherever it is. */
export const submissionKey = ['generations', 'submit'] as const;

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, { category: 'internal', message: error instanceof Error ? error.message : String(error) });
}

const submissionsOf = (queryClient: QueryClient) =>
  queryClient.getMutationCache().findAll({ mutationKey: submissionKey });

/**
 * The one mutation every Generate goes through. Each call is its own entry in the mutation cache
 * (the observer follows only the latest, the cache keeps them all), so a click never waits for
 * the one before. An accepted one becomes the server's jobs and leaves the cache; a refused one
 * stays until dismissed or retried, hence `gcTime: Infinity` (the default would drop it five
 * minutes after the form that sent it unmounted).
 */
function useSubmitMutation() {
  const queryClient = useQueryClient();
  return useMutation<GenerationResponse, ApiError, SubmitVariables>({
    mutationKey: submissionKey,
    mutationFn: async ({ form }) => {
      try {
        return await api.postForm<GenerationResponse>('/api/generations', form);
      } catch (error) {
        throw asApiError(error);
      }
    },
    gcTime: Infinity,
    // Accepted or refused, what is reserved of the month's budget has moved: ask again.
    onSettled: () => void queryClient.invalidateQueries({ queryKey: budgetQueryKey }),
    onSuccess: (answer, variables) => {
      const created = Array.isArray(answer.jobs) && answer.jobs.length > 0 ? answer.jobs : [answer.job];
      putJobs(queryClient, created);
      // Its jobs are in the list now; keeping the entry (and its form's files) would only leak.
      for (const mutation of submissionsOf(queryClient)) {
        if (mutation.state.variables === variables) queryClient.getMutationCache().remove(mutation);
      }
    },
  });
}

/** Sends a generation; resolves with the server's answer, rejects with an `ApiError`. */
export function useSubmit(): Submit {
  const { mutateAsync } = useSubmitMutation();
  return useCallback((form, meta) => mutateAsync({ form, meta }), [mutateAsync]);
}

/**
 * The generations on their way or refused, newest first, read from the mutation cache; `retry`
 * sends a refused one again (as a new entry), `dismiss` drops one, or every refused one (`null`).
 */
export function useSubmissions() {
  const queryClient = useQueryClient();
  const { mutate } = useSubmitMutation();
  const submissions = useMutationState<Submission | null>({
    filters: { mutationKey: submissionKey },
    select: (mutation) => {
      const { status, variables, error } = mutation.state;
      const sent = variables as SubmitVariables | undefined;
      if (sent === undefined || (status !== 'pending' && status !== 'error')) return null;
      return {
        ...sent.meta,
        id: mutation.mutationId,
        state: status === 'pending' ? 'sending' : 'failed',
        error: error as ApiError | null,
        form: sent.form,
      };
    },
  })
    .filter((item) => item !== null)
    .reverse();

  const retry = useCallback(
    (id: number) => {
      const mutation = submissionsOf(queryClient).find((candidate) => candidate.mutationId === id);
      const variables = mutation?.state.variables as SubmitVariables | undefined;
      if (mutation === undefined || variables === undefined) return;
      queryClient.getMutationCache().remove(mutation);
      // The queue shows the failure again if this one is refused too.
      mutate(variables);
    },
    [queryClient, mutate],
  );

  const dismiss = useCallback(
    (id: number | null) => {
      for (const mutation of submissionsOf(queryClient)) {
        if (id === null ? mutation.state.status === 'error' : mutation.mutationId === id) {
          queryClient.getMutationCache().remove(mutation);
        }
      }
    },
    [queryClient],
  );

  return { submissions, retry, dismiss };
}
