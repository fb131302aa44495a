/**
 * The job queue's endpoints: the recent-jobs query (one cache entry, `jobKeys.list`, that answers,
 * events and polls all write into), the per-job and per-group actions, and the generation
 * submissions (`POST /api/generations`), which never block: each is its own entry until it answers.
 */
import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import { ApiError, api } from '../../api/client';
import type { GenerationResponse, Job, JobList, JobResponse } from '../../api/types';
import { isFinished, reconcileJobs, upsertJobs } from './jobs';

export const JOBS_LIMIT = 50;

export const jobKeys = {
  list: ['jobs', 'list'] as const,
};

export const fetchJobs = (signal?: AbortSignal) =>
  api.get<JobList>(`/api/jobs?limit=${JOBS_LIMIT}`, signal === undefined ? {} : { signal });
export const fetchActiveJobs = () => api.get<JobList>(`/api/jobs?active=1&limit=${JOBS_LIMIT}`);

export function putJobs(queryClient: QueryClient, jobs: readonly Job[]) {
  queryClient.setQueryData<Job[]>(jobKeys.list, (current) => upsertJobs(current, jobs));
}

/** The user's recent unhidden jobs, newest first. Kept fresh by `useJobEvents`, not by refetching. */
export function useJobs() {
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: jobKeys.list,
    queryFn: async ({ signal }) => {
      const { jobs } = await fetchJobs(signal);
      return reconcileJobs(queryClient.getQueryData<Job[]>(jobKeys.list), jobs);
    },
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

/** A `POST /api/generations` not answered yet, or refused (kept so the person sees why). */
export interface Submission extends SubmitMeta {
  id: string;
  state: 'sending' | 'failed';
  error: ApiError | null;
  form: FormData;
}

export type Submit = (form: FormData, meta: SubmitMeta) => Promise<GenerationResponse>;

let submissionCounter = 0;

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, { category: 'internal', message: error instanceof Error ? error.message : String(error) });
}

/**
 * Sends generations without ever waiting for one to finish before the next: each call adds an
 * entry at once, which becomes the server's jobs when the answer comes, or stays as a failure.
 */
export function useSubmissions() {
  const queryClient = useQueryClient();
  const [submissions, setSubmissions] = useState<Submission[]>([]);

  const send = useCallback(
    async (id: string, form: FormData): Promise<GenerationResponse> => {
      try {
        const answer = await api.postForm<GenerationResponse>('/api/generations', form);
        const created = Array.isArray(answer.jobs) && answer.jobs.length > 0 ? answer.jobs : [answer.job];
        putJobs(queryClient, created);
        setSubmissions((prev) => prev.filter((item) => item.id !== id));
        return answer;
      } catch (error) {
        const failure = asApiError(error);
        setSubmissions((prev) =>
          prev.map((item) => (item.id === id ? { ...item, state: 'failed', error: failure } : item)),
        );
        throw failure;
      }
    },
    [queryClient],
  );

  const submit: Submit = useCallback(
    (form, meta) => {
      const id = `submission-${++submissionCounter}`;
      setSubmissions((prev) => [{ ...meta, id, state: 'sending', error: null, form }, ...prev]);
      return send(id, form);
    },
    [send],
  );

  const retry = useCallback(
    (id: string) => {
      const item = submissions.find((candidate) => candidate.id === id);
      if (item === undefined) return;
      setSubmissions((prev) =>
        prev.map((candidate) => (candidate.id === id ? { ...candidate, state: 'sending', error: null } : candidate)),
      );
      send(id, item.form).catch(() => undefined);
    },
    [send, submissions],
  );

  const dismiss = useCallback((id: string | null) => {
    setSubmissions((prev) => prev.filter((item) => (id === null ? item.state !== 'failed' : item.id !== id)));
  }, []);

  return { submissions, submit, retry, dismiss };
}
