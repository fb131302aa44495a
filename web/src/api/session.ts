import { queryOptions, useQuery } from '@tanstack/react-query';
import { ApiError, api } from './client';
import type { User, UserResponse } from './types';

/**
 * `GET /api/auth/me` is the source of truth for who is signed in.
 * Signed out (401) is a normal answer here, not an error: the query resolves to `null`.
 */
export async function fetchMe(): Promise<User | null> {
  try {
    const { user } = await api.get<UserResponse>('/api/auth/me');
    return user;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export const meQueryKey = ['auth', 'me'] as const;

export const meQueryOptions = queryOptions({
  queryKey: meQueryKey,
  queryFn: fetchMe,
  staleTime: 60_000,
});

export function useMe() {
  return useQuery(meQueryOptions);
}
