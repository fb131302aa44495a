import {
  infiniteQueryOptions,
  useInfiniteQuery,
  useMutation,
  useMutationState,
  useQuery,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
} from '@tanstack/react-query';
import { assetKeys, assetQueryOptions } from '../../api/assets';
import { api, type ApiError } from '../../api/client';
import type { components } from '../../api/schema';
import type { Asset, AssetDetail, AssetModelList, AssetPage, Job, NewShare, Share, ShareList, ShareResponse } from '../../api/types';
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

/**
 * The studio's job queries (its `jobKeys.list`, the recent jobs, and `['jobs', 'one', id]`):
 * features do not import each other, so the prefix they share is written here. Each job view
 * carries its stored files (`assets`), which a delete here makes out of date.
 */
export const JOBS_QUERY_PREFIX = ['jobs'] as const;

/** A cached job without the deleted files; the same object when it had none of them. */
function withoutAssets(job: Job, gone: ReadonlySet<string>): Job {
  return job.assets.some((asset) => gone.has(asset.id)) ? { ...job, assets: job.assets.filter((asset) => !gone.has(asset.id)) } : job;
}

const isJob = (value: unknown): value is Job =>
  typeof value === 'object' && value !== null && Array.isArray((value as { assets?: unknown }).assets);

/**
 * Takes deleted files out of the studio's cached jobs at once (its stage and queue show them)
 * and asks for fresh job views, whichever of those queries are loaded.
 */
export function removeFromJobs(queryClient: QueryClient, ids: readonly string[]) {
  const gone = new Set(ids);
  // The recent list (`Job[]`) or one job (`Job`).
  queryClient.setQueriesData<Job[] | Job>({ queryKey: JOBS_QUERY_PREFIX }, (data: Job[] | Job | undefined) => {
    if (Array.isArray(data)) {
      const next = data.map((item) => (isJob(item) ? withoutAssets(item, gone) : item));
      return next.some((item, index) => item !== data[index]) ? next : data;
    }
    return isJob(data) ? withoutAssets(data, gone) : data;
  });
  void queryClient.invalidateQueries({ queryKey: JOBS_QUERY_PREFIX });
}

function afterDelete(queryClient: QueryClient, ids: readonly string[]) {
  removeFromLists(queryClient, ids);
  removeFromJobs(queryClient, ids);
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

// --- Stars -----------------------------------------------------------------------------------

type Schemas = components['schemas'];
/** `PUT`/`DELETE /api/assets/{id}/star`: the asset as it is now. */
type StarOneResponse = Schemas['AssetOut'];
/** `POST /api/assets/star`: how many of the ids changed. */
type StarManyResponse = Schemas['Starred'];
type StarManyRequest = Schemas['StarMany'];

/** Every star change shares this key: the lists are refreshed once the last one settles. */
export const STAR_MUTATION_KEY = ['assets', 'star'] as const;
/** The most ids `POST /api/assets/star` takes at once; a bigger selection goes in several. */
export const STAR_BATCH_LIMIT = 500;

export interface StarChange {
  id: string;
  starred: boolean;
}

export interface StarManyChange {
  ids: readonly string[];
  starred: boolean;
}

/** What each asset's star was before an optimistic change: the way back if the server says no. */
type StarsBefore = ReadonlyMap<string, boolean>;

/** `asset` with `starred` set; the same object when it already was. */
function withStar<T extends Asset>(asset: T, starred: boolean): T {
  return asset.starred === starred ? asset : { ...asset, starred };
}

/** `starred` for the given ids (a map of id to its star) in an array of assets; the same array when nothing changed. */
function starAll<T extends Asset>(assets: T[], stars: ReadonlyMap<string, boolean>): T[] {
  const next = assets.map((asset) => {
    const starred = stars.get(asset.id);
    return starred === undefined ? asset : withStar(asset, starred);
  });
  return next.some((asset, index) => asset !== assets[index]) ? next : assets;
}

/**
 * Sets the stars of these assets wherever they are cached: every loaded gallery page (whatever
 * its filters: a starred-only list keeps an unstarred asset until it is fetched again, so focus
 * and the viewer's place are not pulled away mid-click), each one's detail, and the studio's
 * jobs, whose views carry their files.
 */
export function setStarsInCaches(queryClient: QueryClient, stars: ReadonlyMap<string, boolean>) {
  if (stars.size === 0) return;
  queryClient.setQueriesData<InfiniteData<AssetPage, string | null>>({ queryKey: assetKeys.lists }, (data) => {
    if (data === undefined) return data;
    const pages = data.pages.map((page) => {
      const assets = starAll(page.assets, stars);
      return assets === page.assets ? page : { ...page, assets };
    });
    return pages.some((page, index) => page !== data.pages[index]) ? { ...data, pages } : data;
  });
  for (const [id, starred] of stars) {
    queryClient.setQueryData<AssetDetail>(assetKeys.detail(id), (data) => (data === undefined ? data : withStar(data, starred)));
  }
  queryClient.setQueriesData<Job[] | Job>({ queryKey: JOBS_QUERY_PREFIX }, (data: Job[] | Job | undefined) => {
    const starJob = (job: Job): Job => {
      const assets = starAll(job.assets, stars);
      return assets === job.assets ? job : { ...job, assets };
    };
    if (Array.isArray(data)) {
      const next = data.map((item) => (isJob(item) ? starJob(item) : item));
      return next.some((item, index) => item !== data[index]) ? next : data;
    }
    return isJob(data) ? starJob(data) : data;
  });
}

/** What the caches say each id's star is now (ids found nowhere are left out). */
export function starsInCaches(queryClient: QueryClient, ids: readonly string[]): Map<string, boolean> {
  const wanted = new Set(ids);
  const found = new Map<string, boolean>();
  const note = (asset: Asset) => {
    if (wanted.has(asset.id) && !found.has(asset.id)) found.set(asset.id, asset.starred);
  };
  for (const id of ids) {
    const detail = queryClient.getQueryData<AssetDetail>(assetKeys.detail(id));
    if (detail !== undefined) note(detail);
  }
  for (const [, data] of queryClient.getQueriesData<InfiniteData<AssetPage, string | null>>({ queryKey: assetKeys.lists })) {
    for (const page of data?.pages ?? []) page.assets.forEach(note);
  }
  return found;
}

/**
 * Stops list fetches under way (their answer, from before the change, would undo it on screen)
 * and changes the stars in every cache at once; returns the stars as they were.
 */
async function applyOptimistic(queryClient: QueryClient, ids: readonly string[], starred: boolean): Promise<StarsBefore> {
  await queryClient.cancelQueries({ queryKey: assetKeys.lists });
  const before = starsInCaches(queryClient, ids);
  setStarsInCaches(queryClient, new Map(ids.map((id) => [id, starred])));
  return before;
}

/**
 * The lists again from the server once the last star change settles: a starred-only list loses
 * what was unstarred and gains what was starred, and no earlier answer overwrites a later change.
 */
function refreshAfterStars(queryClient: QueryClient) {
  if (queryClient.isMutating({ mutationKey: STAR_MUTATION_KEY }) <= 1) {
    void queryClient.invalidateQueries({ queryKey: assetKeys.lists });
  }
}

/**
 * Stars or unstars one asset (`PUT`/`DELETE /api/assets/{id}/star`). The change shows at once in
 * every cached list, detail and job; a failure puts the star back as it was and is passed to
 * `onError` (every call's, not only the latest's), for the caller to say.
 */
export function useStarAsset(options: { onError?: (error: ApiError, change: StarChange) => void } = {}) {
  const queryClient = useQueryClient();
  const { onError } = options;
  return useMutation<StarOneResponse, ApiError, StarChange, StarsBefore>({
    mutationKey: STAR_MUTATION_KEY,
    mutationFn: ({ id, starred }) => {
      const path = `/api/assets/${encodeURIComponent(id)}/star`;
      return starred ? api.put<StarOneResponse>(path) : api.delete<StarOneResponse>(path);
    },
    onMutate: ({ id, starred }) => applyOptimistic(queryClient, [id], starred),
    onError: (error, change, before) => {
      setStarsInCaches(queryClient, new Map([[change.id, before?.get(change.id) ?? !change.starred]]));
      onError?.(error, change);
    },
    onSuccess: ({ asset }) => setStarsInCaches(queryClient, new Map([[asset.id, asset.starred]])),
    onSettled: () => refreshAfterStars(queryClient),
  });
}

/**
 * Stars or unstars a selection (`POST /api/assets/star`, in requests of at most 500 ids), shown
 * at once like `useStarAsset` and put back as it was on a failure.
 */
export function useStarAssets() {
  const queryClient = useQueryClient();
  return useMutation<StarManyResponse, ApiError, StarManyChange, StarsBefore>({
    mutationKey: STAR_MUTATION_KEY,
    mutationFn: async ({ ids, starred }) => {
      let changed = 0;
      for (let start = 0; start < ids.length; start += STAR_BATCH_LIMIT) {
        const body: StarManyRequest = { ids: ids.slice(start, start + STAR_BATCH_LIMIT), starred };
        changed += (await api.post<StarManyResponse>('/api/assets/star', body)).changed;
      }
      return { changed };
    },
    onMutate: ({ ids, starred }) => applyOptimistic(queryClient, ids, starred),
    onError: (_, { ids, starred }, before) =>
      setStarsInCaches(queryClient, new Map(ids.map((id) => [id, before?.get(id) ?? !starred]))),
    onSettled: () => refreshAfterStars(queryClient),
  });
}

/**
 * The star an asset is being given right now (the latest change under way for it, alone or in a
 * selection), or undefined: a view whose copy of the asset is not in any cache (the studio's
 * results, before their detail loads) still shows the press at once.
 */
export function usePendingStar(id: string): boolean | undefined {
  const pending = useMutationState({
    filters: { mutationKey: STAR_MUTATION_KEY, status: 'pending' },
    select: (mutation) => mutation.state.variables as StarChange | StarManyChange | undefined,
  });
  for (let index = pending.length - 1; index >= 0; index -= 1) {
    const change = pending[index];
    if (change === undefined) continue;
    if ('id' in change ? change.id === id : change.ids.includes(id)) return change.starred;
  }
  return undefined;
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
