import { queryOptions } from '@tanstack/react-query';
import { api } from './client';
import type { AssetDetail, AssetDetailResponse } from './types';

/**
 * `GET /api/assets/{id}` lives here, not in a feature, because both the gallery (its viewer) and
 * the studio (remix, use as reference) read it: one fetcher, one cache entry per asset.
 */
export const assetKeys = {
  all: ['assets'] as const,
  lists: ['assets', 'list'] as const,
  models: ['assets', 'models'] as const,
  detail: (id: string) => ['assets', 'detail', id] as const,
};

export async function fetchAsset(id: string, signal?: AbortSignal): Promise<AssetDetail> {
  const { asset } = await api.get<AssetDetailResponse>(
    `/api/assets/${encodeURIComponent(id)}`,
    signal === undefined ? {} : { signal },
  );
  return { ...asset, job: asset.job ?? null, references: Array.isArray(asset.references) ? asset.references : [] };
}

export function assetQueryOptions(id: string) {
  return queryOptions({
    queryKey: assetKeys.detail(id),
    queryFn: ({ signal }) => fetchAsset(id, signal),
    staleTime: 60_000,
  });
}
