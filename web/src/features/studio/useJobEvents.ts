import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { Job } from '../../api/types';
import { jobKeys, jobListOptions, putJobs } from './jobsApi';

export const EVENTS_URL = '/api/events';
export const POLL_INTERVAL_MS = 2_000;
/** After the server closed the stream for good (EventSource gives up), how long before a new one. */
export const RECONNECT_MS = 5_000;

export type LiveState = 'connecting' | 'live' | 'polling';

/** A `job` event's data: the Job as JSON (the document's `streamEvents`). */
export function jobFromEvent(data: unknown): Job | null {
  if (typeof data !== 'string') return null;
  try {
    const parsed = JSON.parse(data) as Partial<Job> | null;
    return typeof parsed === 'object' && parsed !== null && typeof parsed.id === 'string' ? (parsed as Job) : null;
  } catch {
    return null;
  }
}

interface Options {
  pollMs?: number;
  reconnectMs?: number;
}

/**
 * Keeps the jobs cache live: `job` events replace one job, `resync` refetches the list. While the
 * stream is down, the list query refetches every `pollMs` (its `refetchInterval`) until the stream
 * reconnects, then once more (events may have been missed).
 */
export function useJobEvents({ pollMs = POLL_INTERVAL_MS, reconnectMs = RECONNECT_MS }: Options = {}): LiveState {
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>('connecting');
  // One more observer of the list, only for its interval: `notifyOnChangeProps: []` keeps the
  // caller from re-rendering on every answer (the queue reads the list through `useJobs`).
  useQuery({
    ...jobListOptions(queryClient),
    refetchInterval: state === 'polling' ? pollMs : false,
    notifyOnChangeProps: [],
  });

  useEffect(() => {
    let source: EventSource | null = null;
    let reconnect: ReturnType<typeof setTimeout> | null = null;
    let broken = false;
    let stopped = false;

    const refetch = () => void queryClient.invalidateQueries({ queryKey: jobKeys.list });

    const startPolling = () => {
      if (!stopped) setState('polling');
    };

    const connect = () => {
      reconnect = null;
      if (stopped) return;
      if (typeof EventSource === 'undefined') {
        startPolling();
        return;
      }
      const stream = new EventSource(EVENTS_URL, { withCredentials: true });
      source = stream;
      stream.addEventListener('open', () => {
        setState('live');
        // After an outage, or when the list was loaded before the stream opened, events may
        // have been missed in between.
        const list = queryClient.getQueryState(jobKeys.list);
        if (broken || (list?.status === 'success' && list.fetchStatus === 'idle')) refetch();
        broken = false;
      });
      stream.addEventListener('job', (event) => {
        const job = jobFromEvent((event as MessageEvent).data);
        if (job !== null) putJobs(queryClient, [job]);
      });
      stream.addEventListener('resync', refetch);
      stream.addEventListener('error', () => {
        broken = true;
        startPolling();
        // CLOSED: the browser will not retry by itself (e.g. the server answered an error).
        if (stream.readyState === 2 && reconnect === null) {
          stream.close();
          reconnect = setTimeout(connect, reconnectMs);
        }
      });
    };

    connect();
    return () => {
      stopped = true;
      source?.close();
      if (reconnect !== null) clearTimeout(reconnect);
    };
  }, [queryClient, pollMs, reconnectMs]);

  return state;
}
