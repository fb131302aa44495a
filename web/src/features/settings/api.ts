import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { budgetQueryKey, spendQueryPrefix } from '../../api/budget';
import { api, type ApiError } from '../../api/client';
import { modelsQueryKey } from '../../api/models';
import { meQueryKey } from '../../api/session';
import type { Credits, SpendReport, User, UserResponse } from '../../api/types';

export interface SaveKeyResponse {
  user: User;
  /** `null` when fal accepted the key but it cannot read billing (no admin scope). */
  credits: Credits | null;
}

export interface SaveKeyRequest {
  key: string;
  /** Requests the key may have at fal at once; `null`: the studio's default. */
  concurrency: number | null;
}

export const saveFalKey = ({ key, concurrency }: SaveKeyRequest) =>
  api.put<SaveKeyResponse>('/api/account/fal-key', concurrency === null ? { key } : { key, concurrency });
export const removeFalKey = () => api.delete<UserResponse>('/api/account/fal-key');
/** Changes the saved key's concurrency limit without sending the key again (409 when none is saved). */
export const saveFalKeyConcurrency = (concurrency: number | null) =>
  api.patch<UserResponse>('/api/account/fal-key', { concurrency });
export const fetchCredits = () => api.get<Credits>('/api/account/credits');

export const creditsQueryKey = ['account', 'credits'] as const;

export function creditsQueryOptions(enabled: boolean) {
  return queryOptions({
    queryKey: creditsQueryKey,
    queryFn: fetchCredits,
    enabled,
    staleTime: 30_000,
  });
}

export function useCredits(enabled: boolean) {
  return useQuery(creditsQueryOptions(enabled));
}

export function useSaveFalKey() {
  const queryClient = useQueryClient();
  return useMutation<SaveKeyResponse, ApiError, SaveKeyRequest>({
    mutationFn: saveFalKey,
    onSuccess: ({ user, credits }) => {
      queryClient.setQueryData<User | null>(meQueryKey, user);
      queryClient.setQueryData<Credits>(creditsQueryKey, credits ?? { balance: null, currency: null });
      // The key new jobs run on has changed, and with it the prices fal quotes.
      void queryClient.invalidateQueries({ queryKey: budgetQueryKey });
      void queryClient.invalidateQueries({ queryKey: modelsQueryKey });
    },
  });
}

export function useSaveFalKeyConcurrency() {
  const queryClient = useQueryClient();
  return useMutation<UserResponse, ApiError, number | null>({
    mutationFn: saveFalKeyConcurrency,
    onSuccess: ({ user }) => queryClient.setQueryData<User | null>(meQueryKey, user),
  });
}

export function useRemoveFalKey() {
  const queryClient = useQueryClient();
  return useMutation<UserResponse, ApiError>({
    mutationFn: removeFalKey,
    onSuccess: ({ user }) => {
      queryClient.setQueryData<User | null>(meQueryKey, user);
      queryClient.removeQueries({ queryKey: creditsQueryKey });
      void queryClient.invalidateQueries({ queryKey: budgetQueryKey });
      void queryClient.invalidateQueries({ queryKey: modelsQueryKey });
    },
  });
}

export const SPEND_DAYS = 30;
export const spendQueryKey = (days: number) => [...spendQueryPrefix, days] as const;

export const fetchSpend = (days: number) => api.get<SpendReport>(`/api/spend?days=${days}`);

export function useSpend(days = SPEND_DAYS) {
  return useQuery({ queryKey: spendQueryKey(days), queryFn: () => fetchSpend(days), staleTime: 30_000 });
}

export interface PasswordChange {
  currentPassword: string;
  newPassword: string;
}

export const changePassword = (change: PasswordChange) => api.post<undefined>('/api/auth/password', change);
export const logoutEverywhere = () => api.post<undefined>('/api/auth/logout-everywhere');

/** Changes the password; every other session of the account ends, this one goes on. */
export function useChangePassword() {
  return useMutation<undefined, ApiError, PasswordChange>({ mutationFn: changePassword });
}

/** Ends every session of the account, this one too; forgets every cached answer. */
export function useLogoutEverywhere(onSignedOut: () => void) {
  const queryClient = useQueryClient();
  return useMutation<undefined, ApiError>({
    mutationFn: logoutEverywhere,
    onSuccess: () => {
      onSignedOut();
      queryClient.clear();
      queryClient.setQueryData<User | null>(meQueryKey, null);
    },
  });
}
