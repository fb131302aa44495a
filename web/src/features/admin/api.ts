import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { budgetQueryKey } from '../../api/budget';
import { modelsQueryKey } from '../../api/models';
import { api, type ApiError } from '../../api/client';
import { meQueryKey } from '../../api/session';
import type {
  AdminUser,
  AdminUsers,
  StudioKeyState,
  StudioSettings,
  StudioSettingsChange,
  Usage,
  UsageGroup,
  UserChange,
} from '../../api/types';

export const adminKeys = {
  all: ['admin'] as const,
  users: ['admin', 'users'] as const,
  studioKey: ['admin', 'studio-key'] as const,
  settings: ['admin', 'settings'] as const,
  usage: (from: string, to: string, groupBy: UsageGroup) => ['admin', 'usage', { from, to, groupBy }] as const,
};

// Accounts

export function useAdminUsers() {
  return useQuery({
    queryKey: adminKeys.users,
    queryFn: () => api.get<AdminUsers>('/api/admin/users'),
    staleTime: 10_000,
  });
}

export interface UserChangeRequest {
  id: string;
  change: UserChange;
}

/** Changes one account; the answer replaces it in the list. Changing yourself refreshes `me`. */
export function useChangeUser(selfId: string) {
  const queryClient = useQueryClient();
  return useMutation<AdminUser, ApiError, UserChangeRequest>({
    mutationFn: ({ id, change }) => api.patch<AdminUser>(`/api/admin/users/${encodeURIComponent(id)}`, change),
    onSuccess: (changed) => {
      queryClient.setQueryData<AdminUsers>(adminKeys.users, (list) =>
        list === undefined ? list : { users: list.users.map((user) => (user.id === changed.id ? changed : user)) },
      );
      if (changed.id === selfId) {
        void queryClient.invalidateQueries({ queryKey: meQueryKey });
        void queryClient.invalidateQueries({ queryKey: budgetQueryKey });
      }
    },
  });
}

// The studio key

export function useStudioKey() {
  return useQuery({
    queryKey: adminKeys.studioKey,
    queryFn: () => api.get<StudioKeyState>('/api/admin/studio-key'),
    staleTime: 30_000,
  });
}

/** Saving or removing the key changes every account's key source and the settings' view of it. */
function useKeyMutation<V>(mutationFn: (variables: V) => Promise<StudioKeyState>) {
  const queryClient = useQueryClient();
  return useMutation<StudioKeyState, ApiError, V>({
    mutationFn,
    onSuccess: (state) => {
      queryClient.setQueryData<StudioKeyState>(adminKeys.studioKey, state);
      void queryClient.invalidateQueries({ queryKey: adminKeys.users });
      void queryClient.invalidateQueries({ queryKey: adminKeys.settings });
      void queryClient.invalidateQueries({ queryKey: budgetQueryKey });
      // Accounts on the studio key see its prices.
      void queryClient.invalidateQueries({ queryKey: modelsQueryKey });
    },
  });
}

export const useSaveStudioKey = () =>
  useKeyMutation((key: string) => api.put<StudioKeyState>('/api/admin/studio-key', { key }));

export const useRemoveStudioKey = () => useKeyMutation(() => api.delete<StudioKeyState>('/api/admin/studio-key'));

// Settings

export function useStudioSettings() {
  return useQuery({
    queryKey: adminKeys.settings,
    queryFn: () => api.get<StudioSettings>('/api/admin/settings'),
    staleTime: 30_000,
  });
}

export function useSaveStudioSettings() {
  const queryClient = useQueryClient();
  return useMutation<StudioSettings, ApiError, StudioSettingsChange>({
    mutationFn: (change) => api.put<StudioSettings>('/api/admin/settings', change),
    onSuccess: (settings) => {
      queryClient.setQueryData<StudioSettings>(adminKeys.settings, settings);
      void queryClient.invalidateQueries({ queryKey: budgetQueryKey });
    },
  });
}

// Usage

export function fetchUsage(from: string, to: string, groupBy: UsageGroup, signal?: AbortSignal) {
  const search = new URLSearchParams({ from, to, groupBy });
  return api.get<Usage>(`/api/admin/usage?${search.toString()}`, signal === undefined ? {} : { signal });
}

/** The last answer stays on screen while another range or grouping loads. */
export function useUsage(from: string, to: string, groupBy: UsageGroup, enabled: boolean) {
  return useQuery({
    queryKey: adminKeys.usage(from, to, groupBy),
    queryFn: ({ signal }) => fetchUsage(from, to, groupBy, signal),
    enabled,
    staleTime: 30_000,
    placeholderData: keepPreviousData,
  });
}
