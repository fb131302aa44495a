import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { budgetQueryKey, spendQueryPrefix } from '../../api/budget';
import { jobKeys, putJobs } from './jobsApi';
import { job } from './test/jobs';

describe('putJobs', () => {
  it('reads the budget and the spend report again when a job ends, not on every change', () => {
    const queryClient = new QueryClient();
    queryClient.setQueryData(budgetQueryKey, { budgetMonthlyUsd: null });
    queryClient.setQueryData([...spendQueryPrefix, 30], { total: 0 });
    queryClient.setQueryData(jobKeys.list, [job({ id: 'a', status: 'queued' })]);
    const stale = () => [queryClient.getQueryState(budgetQueryKey)?.isInvalidated, queryClient.getQueryState([...spendQueryPrefix, 30])?.isInvalidated];

    putJobs(queryClient, [job({ id: 'a', status: 'running' })]);
    expect(stale()).toEqual([false, false]);
    putJobs(queryClient, [job({ id: 'a', status: 'completed' })]);
    expect(stale()).toEqual([true, true]);
  });
});
