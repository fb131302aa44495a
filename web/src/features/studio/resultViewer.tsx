/**
 * Opening a result in the app's viewer from anywhere in the studio (the stage, the queue, a
 * compare column) without threading a callback through every job component. Without a provider
 * (a component rendered on its own) results are shown but do not open.
 */
import { useQueryClient } from '@tanstack/react-query';
import { createContext, Suspense, useCallback, useContext, useState, type ReactNode } from 'react';
import { useLocation } from 'react-router';
import type { Asset, Job } from '../../api/types';
import { AssetViewerContext, afterDeletion, type Viewing } from '../../components/assetViewer';
import { jobKeys } from './jobsApi';

/** `among`: the results ← and → move through; `opener`: where focus returns on close. */
export type OpenResult = (asset: Asset, among: readonly Asset[], opener: HTMLElement) => void;

export const ResultViewerContext = createContext<OpenResult | null>(null);

export const useOpenResult = () => useContext(ResultViewerContext);

/** Every result of these jobs, in their order: what the viewer steps through. */
export const resultsOf = (jobs: readonly Pick<Job, 'assets'>[]): Asset[] => jobs.flatMap((job) => job.assets);

/** What is open: `at`, the address it opened on; `opener`, where focus goes back to. */
type Open = Viewing & { at: string; opener: HTMLElement };

/**
 * The page's side of the viewer: `open` for the context (null when the app plugged in no viewer),
 * and `viewer`, the open viewer to render, if any.
 */
export function useResultViewer(): { open: OpenResult | null; viewer: ReactNode } {
  const renderViewer = useContext(AssetViewerContext);
  const queryClient = useQueryClient();
  const { search } = useLocation();
  const [viewing, setViewing] = useState<Open | null>(null);
  const openResult = useCallback<OpenResult>((asset, among, opener) => setViewing({ id: asset.id, among, at: search, opener }), [search]);
  // The viewer's Remix and Use as reference lead to this same page: it closes on the way.
  if (viewing !== null && viewing.at !== search) setViewing(null);

  const onDeleted = (id: string) => {
    // The job keeps its other results; this one leaves the stage and the queue at once.
    queryClient.setQueryData<Job[]>(jobKeys.list, (jobs) =>
      jobs?.map((job) => (job.assets.some((asset) => asset.id === id) ? { ...job, assets: job.assets.filter((asset) => asset.id !== id) } : job)),
    );
    setViewing((prev) => {
      const next = prev === null ? null : afterDeletion(prev, id);
      return prev === null || next === null ? null : { ...next, at: prev.at, opener: prev.opener };
    });
  };

  const viewer =
    viewing === null || renderViewer === null ? null : (
      <Suspense fallback={null}>
        {renderViewer({
          viewing,
          onNavigate: (id) => setViewing((prev) => (prev === null ? null : { ...prev, id })),
          onClose: () => setViewing(null),
          onDeleted,
          returnFocus: () => (viewing.opener.isConnected ? viewing.opener : null),
        })}
      </Suspense>
    );
  return { open: renderViewer === null ? null : openResult, viewer };
}
