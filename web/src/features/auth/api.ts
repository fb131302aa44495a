import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api } from '../../api/client';
import { meQueryKey } from '../../api/session';
import type { User, UserResponse } from '../../api/types';

export interface Credentials {
  email: string;
  password: string;
  /** The token of an invite link (`/signup?invite=…`), when sign-up is by invite. */
  invite?: string;
}

/** Who may sign up here: anyone, people with an invite link, or nobody. */
export type SignupMode = 'open' | 'invite' | 'closed';

export const fetchSignupPolicy = () => api.get<{ mode: SignupMode }>('/api/auth/signup-policy');

export function useSignupPolicy(enabled: boolean) {
  return useQuery({ queryKey: ['auth', 'signup-policy'], queryFn: fetchSignupPolicy, enabled, staleTime: 60_000 });
}

export const signup = (credentials: Credentials) => api.post<UserResponse>('/api/auth/signup', credentials);
export const login = (credentials: Credentials) => api.post<UserResponse>('/api/auth/login', credentials);
export const logout = () => api.post<undefined>('/api/auth/logout');

/** Sign in or sign up; on success the returned user becomes the `me` answer at once. */
export function useAuthMutation(mode: 'login' | 'signup') {
  const queryClient = useQueryClient();
  return useMutation<UserResponse, ApiError, Credentials>({
    mutationFn: mode === 'login' ? login : signup,
    onSuccess: ({ user }) => {
      queryClient.setQueryData<User | null>(meQueryKey, user);
    },
  });
}

/** Sign out; forgets every cached answer so nothing of this user stays in memory. */
export function useLogout(onSignedOut: () => void) {
  const queryClient = useQueryClient();
  return useMutation<void, ApiError>({
    mutationFn: async () => {
      try {
        await logout();
      } catch (error) {
        // The session is already gone: that is what we wanted.
        if (!(error instanceof ApiError && error.status === 401)) throw error;
      }
    },
    onSuccess: () => {
      onSignedOut();
      queryClient.clear();
      queryClient.setQueryData<User | null>(meQueryKey, null);
    },
  });
}
