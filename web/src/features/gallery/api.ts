import {
  infiniteQueryOptions,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
} from '@tanstack/react-query';
import { assetKeys, assetQueryOptions } from '../../api/assets';
import { api, type ApiError } from '../../api/client';
import type { AssetModelList, AssetPage, NewShare, Share, ShareList, ShareResponse } from '../../api/types';
import { assetListQuery, type Filters } from './filters';

export const shareKeys = {
  all: ['shares'] as const,
  ofAsset: (assetId: string) => ['shares', 'asset', assetId] as const,
  mine: ['shares', 'mine'] as const,
};

export function assetsQueryOptions(filters: Filters) {
  return infiniteQueryOptions({
    queryKey: [...assetKeys.lists, filters] as const,
    queryFn: ({ pageParam, signal }) => api.get<AssetPage>(`/api/assets?${assetListQuery(filters, pageParam)}`, { signal }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    staleTime: 30_000,
  });
}

export const useAssets = (filters: Filters) => useInfiniteQuery(assetsQueryOptions(filters));

export function useAssetModels() {
  return useQuery({
    queryKey: assetKeys.models,
    queryFn: () => api.get<AssetModelList>('/api/assets/models'),
    staleTime: 60_000,
  });
}

export function useAsset(id: string | null) {
  return useQuery({ ...assetQueryOptions(id ?? ''), enabled: id !== null });
}

/** Takes deleted assets out of every loaded list page at once, so no grid shows them again. */
export function removeFromLists(queryClient: QueryClient, ids: readonly string[]) {
  const gone = new Set(ids);
  queryClient.setQueriesData<InfiniteData<AssetPage, string | null>>({ queryKey: assetKeys.lists }, (data) =>
    data === undefined
      ? data
      : { ...data, pages: data.pages.map((page) => ({ ...page, assets: page.assets.filter((asset) => !gone.has(asset.id)) })) },
  );
  for (const id of ids) queryClient.removeQueries({ queryKey: assetKeys.detail(id) });
}

function afterDelete(queryClient: QueryClient, ids: readonly string[]) {
  removeFromLists(queryClient, ids);
  void queryClient.invalidateQueries({ queryKey: assetKeys.models });
  void queryClient.invalidateQueries({ queryKey: shareKeys.all });
}

export function useDeleteAsset() {
  const queryClient = useQueryClient();
  return useMutation<void, ApiError, string>({
    mutationFn: (id) => api.delete<void>(`/api/assets/${encodeURIComponent(id)}`),
    onSuccess: (_, id) => afterDelete(queryClient, [id]),
  });
}

export function useDeleteAssets() {
  const queryClient = useQueryClient();
  return useMutation<{ deleted: number }, ApiError, string[]>({
    mutationFn: (ids) => api.post<{ deleted: number }>('/api/assets/delete', { ids }),
    onSuccess: (_, ids) => afterDelete(queryClient, ids),
  });
}

export function useAssetShares(assetId: string) {
  return useQuery({
    queryKey: shareKeys.ofAsset(assetId),
    queryFn: () => api.get<ShareList>(`/api/assets/${encodeURIComponent(assetId)}/shares`),
  });
}

export function useMyShares() {
  return useQuery({ queryKey: shareKeys.mine, queryFn: () => api.get<ShareList>('/api/shares') });
}

export function useCreateShare(assetId: string) {
  const queryClient = useQueryClient();
  return useMutation<Share, ApiError, NewShare>({
    mutationFn: async (options) => {
      const { share } = await api.post<ShareResponse>(`/api/assets/${encodeURIComponent(assetId)}/shares`, options);
      return share;
    },
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: shareKeys.all }),
  });
}

export function useRevokeShare(onRevoked?: (token: string) => void) {
  const queryClient = useQueryClient();
  return useMutation<void, ApiError, string>({
    mutationFn: (token) => api.delete<void>(`/api/shares/${encodeURIComponent(token)}`),
    onSuccess: (_, token) => {
      queryClient.setQueriesData<ShareList>({ queryKey: shareKeys.all }, (data) =>
        data === undefined ? data : { shares: data.shares.filter((share) => share.token !== token) },
      );
      onRevoked?.(token);
    },
  });
}
