import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from './client';
import type { MyBudget } from './types';

/**
 * `GET /api/account/budget`: which key the signed-in user's generations run on and their budget
 * this month. Read by Settings and by the studio (beside Generate); a generation refetches it.
 */
export const budgetQueryKey = ['account', 'budget'] as const;
/** Settings' spend report (`['account', 'spend', days]`): read again, like the budget, as jobs end. */
export const spendQueryPrefix = ['account', 'spend'] as const;

export const fetchMyBudget = () => api.get<MyBudget>('/api/account/budget');

export const budgetQueryOptions = queryOptions({
  queryKey: budgetQueryKey,
  queryFn: fetchMyBudget,
  staleTime: 30_000,
});

export function useMyBudget() {
  return useQuery(budgetQueryOptions);
}
