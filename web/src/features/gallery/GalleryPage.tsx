import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { Asset } from '../../api/types';
import { Alert } from '../../components/Alert';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Page } from '../../components/Page';
import { TileGridSkeleton } from '../../components/Skeleton';
import { routes } from '../../lib/routes';
import { useAssets, useDeleteAsset, useDeleteAssets } from './api';
import { AssetTile } from './AssetTile';
import { BatchStack } from './BatchStack';
import { FilterBar } from './FilterBar';
import { downloadSelectedHref, hasFilters, queryFilters, readFilters, readGrouped, writeFilters, writeGrouped, type Filters } from './filters';
import { entryOrder, groupBatches, type GridEntry } from './grouping';
import { clickBatch, clickTile, EMPTY_SELECTION, keepOnly, selectAll, selectedInOrder, type Selection } from './selection';
import { ShareDialog } from './ShareDialog';
import { SharesPanel } from './SharesPanel';
import { Viewer } from './Viewer';

type Pending = { kind: 'share'; asset: Asset } | { kind: 'delete'; asset: Asset } | { kind: 'delete-selected'; ids: string[] };

/**
 * The tile button of an asset, to put focus back on it when the viewer closes; the viewer may
 * have stepped into a collapsed batch, and then it is the batch's stack.
 */
function tileButton(id: string, groupId: string | null): HTMLElement | null {
  for (const tile of document.querySelectorAll<HTMLElement>('.tile[data-asset-id]')) {
    if (tile.dataset.assetId === id) return tile.querySelector<HTMLElement>('.tile-open');
  }
  if (groupId === null) return null;
  for (const stack of document.querySelectorAll<HTMLElement>('.tile.stack[data-group-id]')) {
    if (stack.dataset.groupId === groupId) return stack.querySelector<HTMLElement>('.tile-open');
  }
  return null;
}

/** Loads the next page when the end of the grid comes near (the "Load more" button stays as a fallback). */
function useEndSentinel(onReach: () => void, active: boolean) {
  const latest = useRef(onReach);
  useEffect(() => {
    latest.current = onReach;
  });
  return useCallback(
    (element: HTMLElement | null) => {
      if (element === null || !active || typeof IntersectionObserver === 'undefined') return;
      const observer = new IntersectionObserver((entries) => {
        if (entries.some((entry) => entry.isIntersecting)) latest.current();
      }, { rootMargin: '800px 0px' });
      observer.observe(element);
      return () => observer.disconnect();
    },
    [active],
  );
}

interface GridProps {
  filters: Filters;
  grouped: boolean;
  viewId: string | null;
  setView: (id: string | null, replace: boolean) => void;
}

function Grid({ filters, grouped, viewId, setView }: GridProps) {
  const assets = useAssets(queryFilters(filters));
  const deleteOne = useDeleteAsset();
  const deleteMany = useDeleteAssets();
  const [selecting, setSelecting] = useState(false);
  const [selection, setSelection] = useState<Selection>(EMPTY_SELECTION);
  const [pending, setPending] = useState<Pending | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set());

  const list = useMemo(() => assets.data?.pages.flatMap((page) => page.assets) ?? [], [assets.data]);
  const entries = useMemo<GridEntry[]>(
    () => (grouped ? groupBatches(list) : list.map((asset) => ({ kind: 'single', asset }))),
    [grouped, list],
  );
  const order = useMemo(() => entryOrder(entries), [entries]);
  const byId = useMemo(() => new Map(list.map((asset) => [asset.id, asset])), [list]);
  const orderRef = useRef(order);
  useEffect(() => {
    orderRef.current = order;
  });

  // Deleted or filtered-out assets leave the selection.
  const kept = keepOnly(selection, order);
  if (kept !== selection) setSelection(kept);

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = assets;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const sentinel = useEndSentinel(loadMore, hasNextPage && !assets.isError);

  const onOpen = useCallback((asset: Asset) => setView(asset.id, false), [setView]);
  const onSelect = useCallback(
    (asset: Asset, shift: boolean) => setSelection((prev) => clickTile(prev, asset.id, shift, orderRef.current)),
    [],
  );
  const onSelectBatch = useCallback(
    (ids: readonly string[], shift: boolean) => setSelection((prev) => clickBatch(prev, ids, shift, orderRef.current)),
    [],
  );
  const onToggleBatch = useCallback(
    (groupId: string) =>
      setExpanded((prev) => {
        const next = new Set(prev);
        if (!next.delete(groupId)) next.add(groupId);
        return next;
      }),
    [],
  );
  const onShare = useCallback((asset: Asset) => setPending({ kind: 'share', asset }), []);
  const onDelete = useCallback((asset: Asset) => setPending({ kind: 'delete', asset }), []);

  const selectedIds = selectedInOrder(selection, order);
  const viewIndex = viewId === null ? -1 : order.indexOf(viewId);
  const prevId = viewIndex > 0 ? (order[viewIndex - 1] ?? null) : null;
  const nextId = viewIndex >= 0 ? (order[viewIndex + 1] ?? null) : null;

  const confirmDelete = () => {
    if (pending?.kind === 'delete') {
      const id = pending.asset.id;
      // The viewer moves on to a neighbour, or closes.
      const neighbour = id === viewId ? (nextId ?? prevId) : null;
      deleteOne.mutate(id, {
        onSuccess: () => {
          setPending(null);
          setNotice('Deleted 1 item.');
          if (id === viewId) setView(neighbour, true);
        },
      });
    } else if (pending?.kind === 'delete-selected') {
      deleteMany.mutate(pending.ids, {
        onSuccess: ({ deleted }) => {
          setPending(null);
          setSelection(EMPTY_SELECTION);
          setNotice(`Deleted ${deleted} item${deleted === 1 ? '' : 's'}.`);
        },
      });
    }
  };

  const filtered = hasFilters(filters);
  return (
    <>
      <div className="select-bar" role="toolbar" aria-label="Selection">
        <button
          type="button"
          className="chip"
          aria-pressed={selecting}
          onClick={() => {
            setSelecting((on) => !on);
            setSelection(EMPTY_SELECTION);
          }}
        >
          {selecting ? 'Done selecting' : 'Select'}
        </button>
        {selecting && (
          <>
            <span className="muted" data-testid="selected-count" aria-live="polite">
              {selectedIds.length} selected
            </span>
            <button type="button" className="button button-small" disabled={order.length === 0} onClick={() => setSelection((prev) => selectAll(prev, order))}>
              Select all loaded
            </button>
            <button type="button" className="button button-small" disabled={selectedIds.length === 0} onClick={() => setSelection(EMPTY_SELECTION)}>
              Clear
            </button>
            {selectedIds.length > 0 ? (
              // A plain link: the browser streams the zip to disk itself.
              <a className="button button-small" href={downloadSelectedHref(selectedIds)} download>
                Download selected
              </a>
            ) : (
              <button type="button" className="button button-small" disabled>
                Download selected
              </button>
            )}
            <button
              type="button"
              className="button button-small button-danger"
              disabled={selectedIds.length === 0}
              onClick={() => setPending({ kind: 'delete-selected', ids: selectedIds })}
            >
              Delete selected
            </button>
          </>
        )}
      </div>
      {notice !== null && (
        <p className="muted gallery-notice" role="status">
          {notice}
        </p>
      )}

      {assets.isPending && <TileGridSkeleton label="Loading your gallery…" />}
      {assets.isError && list.length === 0 && <Alert tone="error">Could not load the gallery: {assets.error.message}</Alert>}
      {assets.isSuccess && list.length === 0 && !filtered && (
        <div className="card empty-state" data-testid="gallery-empty">
          <p>
            No images yet — generate something in the <Link to={routes.studio.path}>{routes.studio.title}</Link>.
          </p>
        </div>
      )}
      {assets.isSuccess && list.length === 0 && filtered && (
        <div className="card empty-state" data-testid="gallery-no-results">
          <p>Nothing matches these filters.</p>
          <p className="muted">Try other words, another kind or model, or a wider date range.</p>
        </div>
      )}
      {list.length > 0 && (
        <ul className={selecting ? 'gallery-grid selecting' : 'gallery-grid'} aria-label="Assets">
          {entries.map((entry) =>
            entry.kind === 'single' ? (
              <AssetTile
                key={entry.asset.id}
                asset={entry.asset}
                selecting={selecting}
                selected={selection.ids.has(entry.asset.id)}
                onOpen={onOpen}
                onSelect={onSelect}
                onShare={onShare}
                onDelete={onDelete}
              />
            ) : (
              <BatchStack
                // Prefixed: a batch's id and an asset's id come from different tables.
                key={`batch:${entry.groupId}`}
                groupId={entry.groupId}
                assets={entry.assets}
                expanded={expanded.has(entry.groupId)}
                selecting={selecting}
                selectedIds={selection.ids}
                onToggle={onToggleBatch}
                onSelectBatch={onSelectBatch}
                onOpen={onOpen}
                onSelect={onSelect}
                onShare={onShare}
                onDelete={onDelete}
              />
            ),
          )}
        </ul>
      )}
      {hasNextPage && (
        <div className="load-more" ref={sentinel}>
          <button type="button" className="button" disabled={isFetchingNextPage} onClick={loadMore}>
            {isFetchingNextPage ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
      {assets.isError && list.length > 0 && <Alert tone="error">Could not load more: {assets.error.message}</Alert>}

      {viewId !== null && (
        <Viewer
          id={viewId}
          listed={byId.get(viewId)}
          prevId={prevId}
          nextId={nextId}
          canLoadMore={viewIndex >= 0 && nextId === null && hasNextPage}
          onLoadMore={loadMore}
          onNavigate={(id) => setView(id, true)}
          onClose={() => setView(null, true)}
          onShare={onShare}
          onDelete={onDelete}
          returnFocus={() => tileButton(viewId, byId.get(viewId)?.groupId ?? null)}
        />
      )}
      {pending?.kind === 'share' && <ShareDialog asset={pending.asset} onClose={() => setPending(null)} />}
      {(pending?.kind === 'delete' || pending?.kind === 'delete-selected') && (
        <ConfirmDialog
          title={pending.kind === 'delete' ? 'Delete this item?' : `Delete ${pending.ids.length} item${pending.ids.length === 1 ? '' : 's'}?`}
          confirmLabel="Delete"
          pendingLabel="Deleting…"
          pending={deleteOne.isPending || deleteMany.isPending}
          error={(pending.kind === 'delete' ? deleteOne.error : deleteMany.error)?.message ?? null}
          onConfirm={confirmDelete}
          onCancel={() => {
            deleteOne.reset();
            deleteMany.reset();
            setPending(null);
          }}
        >
          <p>
            {pending.kind === 'delete'
              ? 'The file is removed from storage and its share links stop working. This cannot be undone.'
              : 'The files are removed from storage and their share links stop working. This cannot be undone.'}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

export function GalleryPage() {
  const [search, setSearch] = useSearchParams();
  const filters = readFilters(search);
  const grouped = readGrouped(search);
  const viewId = search.get('view');
  const tab = search.get('tab') === 'shares' ? 'shares' : 'assets';

  const onFilters = useCallback(
    (next: Filters) => setSearch((prev) => writeFilters(prev, next), { replace: true }),
    [setSearch],
  );
  const onGrouped = useCallback(
    (on: boolean) => setSearch((prev) => writeGrouped(prev, on), { replace: true }),
    [setSearch],
  );
  const setView = useCallback(
    (id: string | null, replace: boolean) =>
      setSearch(
        (prev) => {
          const next = new URLSearchParams(prev);
          if (id === null) next.delete('view');
          else next.set('view', id);
          return next;
        },
        { replace },
      ),
    [setSearch],
  );
  const setTab = (next: 'assets' | 'shares') =>
    setSearch((prev) => {
      const params = new URLSearchParams(prev);
      if (next === 'shares') params.set('tab', 'shares');
      else params.delete('tab');
      params.delete('view');
      return params;
    });

  return (
    <Page title={routes.gallery.title} wide>
      <div className="mode-switch" role="group" aria-label="Gallery sections">
        <button type="button" className="chip" aria-pressed={tab === 'assets'} onClick={() => setTab('assets')}>
          Assets
        </button>
        <button type="button" className="chip" aria-pressed={tab === 'shares'} onClick={() => setTab('shares')}>
          Shared links
        </button>
      </div>
      {tab === 'shares' ? (
        <SharesPanel />
      ) : (
        <>
          <FilterBar filters={filters} onChange={onFilters} grouped={grouped} onGroupedChange={onGrouped} />
          <Grid filters={filters} grouped={grouped} viewId={viewId} setView={setView} />
        </>
      )}
    </Page>
  );
}
