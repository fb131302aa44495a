// @vitest-environment happy-dom
import { QueryClient, QueryClientProvider, type InfiniteData } from '@tanstack/react-query';
import { cleanup, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assetKeys } from '../../api/assets';
import type { Asset, AssetPage } from '../../api/types';
import { json, stubServer } from '../../test/harness';
import { setStarsInCaches, STAR_BATCH_LIMIT, starsInCaches, useStarAssets } from './api';
import { NO_FILTERS } from './filters';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const asset = (id: string, starred = false): Asset => ({
  id,
  endpointId: 'fal-ai/flux/dev',
  model: 'FLUX.1 [dev]',
  prompt: id,
  resultKind: 'image',
  storageMode: 'local',
  url: `/files/${id}`,
  downloadUrl: `/files/${id}?download=1`,
  contentType: 'image/png',
  byteSize: 1,
  fileName: `${id}.png`,
  params: {},
  createdAt: '2026-11-25T10:00:00Z',
  starred,
});

function client() {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
  return { queryClient, wrapper };
}

const page = (assets: Asset[]): InfiniteData<AssetPage, string | null> => ({ pages: [{ assets, nextCursor: null }], pageParams: [null] });

describe('stars in the caches', () => {
  it('sets the stars in every loaded list, leaving untouched pages and lists as they were', () => {
    const { queryClient } = client();
    const all = [...assetKeys.lists, NO_FILTERS] as const;
    const starredOnly = [...assetKeys.lists, { ...NO_FILTERS, starred: true }] as const;
    const other = [...assetKeys.lists, { ...NO_FILTERS, q: 'owl' }] as const;
    queryClient.setQueryData(all, page([asset('a1'), asset('a2', true)]));
    queryClient.setQueryData(starredOnly, page([asset('a2', true)]));
    const untouched = page([asset('a3')]);
    queryClient.setQueryData(other, untouched);

    expect(starsInCaches(queryClient, ['a1', 'a2', 'zz'])).toEqual(new Map([['a1', false], ['a2', true]]));
    setStarsInCaches(queryClient, new Map([['a1', true], ['a2', false]]));
    const starsOf = (key: readonly unknown[]) =>
      queryClient.getQueryData<InfiniteData<AssetPage, string | null>>(key)?.pages.flatMap((p) => p.assets.map((a) => [a.id, a.starred]));
    expect(starsOf(all)).toEqual([['a1', true], ['a2', false]]);
    // A starred-only list keeps it until it is fetched again (the grid refreshes it after).
    expect(starsOf(starredOnly)).toEqual([['a2', false]]);
    expect(queryClient.getQueryData(other)).toBe(untouched);
  });

  it('sends a big selection in requests of at most 500 ids and adds up what changed', async () => {
    const { calls } = stubServer({
      'POST /api/assets/star': (call) => json(200, { changed: (call.body as { ids: string[] }).ids.length - 1 }),
    });
    const { wrapper } = client();
    const { result } = renderHook(() => useStarAssets(), { wrapper });
    const ids = Array.from({ length: 1201 }, (_, index) => `a${index}`);
    result.current.mutate({ ids, starred: true });
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    const sent = calls.map((call) => (call.body as { ids: string[]; starred: boolean }).ids);
    expect(sent.map((batch) => batch.length)).toEqual([STAR_BATCH_LIMIT, STAR_BATCH_LIMIT, 201]);
    expect(sent.flat()).toEqual(ids);
    expect(calls.every((call) => (call.body as { starred: boolean }).starred)).toBe(true);
    expect(result.current.data).toEqual({ changed: 1198 });
  });
});
