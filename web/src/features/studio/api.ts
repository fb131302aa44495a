import {
  infiniteQueryOptions,
  queryOptions,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import { assetQueryOptions } from '../../api/assets';
import { modelsQueryKey } from '../../api/models';
import { api, type ApiError } from '../../api/client';
import type { EstimateResponse, ModelList, ModelPage, Spec } from '../../api/types';

export const PAGE_SIZE = 24;

export const modelKeys = {
  all: modelsQueryKey,
  list: (q: string, category: string | null) => ['models', 'list', { q, category }] as const,
  spec: (endpointId: string) => ['models', 'spec', endpointId] as const,
  favorites: ['models', 'favorites'] as const,
  recent: ['models', 'recent'] as const,
  estimate: (endpointId: string, params: string) => ['models', 'estimate', endpointId, params] as const,
};

export function fetchModels(q: string, category: string | null, cursor: string | null, signal?: AbortSignal) {
  const search = new URLSearchParams();
  if (q !== '') search.set('q', q);
  if (category !== null) search.set('category', category);
  if (cursor !== null) search.set('cursor', cursor);
  search.set('limit', String(PAGE_SIZE));
  return api.get<ModelPage>(`/api/models?${search.toString()}`, signal === undefined ? {} : { signal });
}

export function modelsQueryOptions(q: string, category: string | null) {
  return infiniteQueryOptions({
    queryKey: modelKeys.list(q, category),
    queryFn: ({ pageParam, signal }) => fetchModels(q, category, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    staleTime: 5 * 60_000,
  });
}

export const useModels = (q: string, category: string | null) => useInfiniteQuery(modelsQueryOptions(q, category));

export function specQueryOptions(endpointId: string) {
  return queryOptions({
    queryKey: modelKeys.spec(endpointId),
    queryFn: ({ signal }) => api.get<Spec>(`/api/models/spec?endpoint=${encodeURIComponent(endpointId)}`, { signal }),
    staleTime: 10 * 60_000,
  });
}

export function useSpec(endpointId: string | null) {
  return useQuery({ ...specQueryOptions(endpointId ?? ''), enabled: endpointId !== null });
}

export function useFavorites() {
  return useQuery({
    queryKey: modelKeys.favorites,
    queryFn: () => api.get<ModelList>('/api/models/favorites'),
    staleTime: 60_000,
  });
}

export function useRecent() {
  return useQuery({
    queryKey: modelKeys.recent,
    queryFn: () => api.get<ModelList>('/api/models/recent'),
    staleTime: 60_000,
  });
}

export function useToggleFavorite() {
  const queryClient = useQueryClient();
  return useMutation<ModelList, ApiError, { endpointId: string; favorite: boolean }>({
    mutationFn: ({ endpointId, favorite }) =>
      favorite
        ? api.put<ModelList>('/api/models/favorites', { endpointId })
        : api.delete<ModelList>(`/api/models/favorites?endpoint=${encodeURIComponent(endpointId)}`),
    onSuccess: (list) => queryClient.setQueryData(modelKeys.favorites, list),
  });
}

export function useMarkRecent() {
  const queryClient = useQueryClient();
  return useMutation<ModelList, ApiError, string>({
    mutationFn: (endpointId) => api.post<ModelList>('/api/models/recent', { endpointId }),
    onSuccess: (list) => queryClient.setQueryData(modelKeys.recent, list),
  });
}

/** `params` is the JSON text of the values, so equal settings share one cache entry. */
export function useEstimate(endpointId: string | null, params: string, enabled: boolean) {
  return useQuery({
    queryKey: modelKeys.estimate(endpointId ?? '', params),
    queryFn: () =>
      api.post<EstimateResponse>('/api/models/estimate', {
        endpoint: endpointId,
        params: JSON.parse(params) as unknown,
      }),
    enabled: enabled && endpointId !== null,
    staleTime: 60_000,
  });
}

/** One gallery asset (`GET /api/assets/{id}`), for `?remix=` and `?reference=`. */
export function useAssetDetail(id: string | null) {
  return useQuery({ ...assetQueryOptions(id ?? ''), enabled: id !== null });
}
