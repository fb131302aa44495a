import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { Asset } from '../../api/types';
import { Alert } from '../../components/Alert';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Page } from '../../components/Page';
import { TileGridSkeleton } from '../../components/Skeleton';
import { routes } from '../../lib/routes';
import { countOf } from '../../lib/words';
import { useAssets, useDeleteAsset, useDeleteAssets, useStarAsset, useStarAssets } from './api';
import { AssetTile, assetLabel } from './AssetTile';
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

/**
 * Where focus goes when the tile it was on leaves the grid (unstarred in a starred-only list):
 * the same control on the tile now in its place, else that tile's (or batch's) open button.
 */
function starOrTile(id: string, groupId: string | null): HTMLElement | null {
  for (const tile of document.querySelectorAll<HTMLElement>('.tile[data-asset-id]')) {
    if (tile.dataset.assetId === id) return tile.querySelector<HTMLElement>('.tile-star') ?? tile.querySelector<HTMLElement>('.tile-open');
  }
  return tileButton(id, groupId);
}

/** Where the viewer was in the grid: its neighbours, kept while its asset drops out of the list. */
interface Place {
  id: string;
  prevId: string | null;
  nextId: string | null;
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
  const [starError, setStarError] = useState<string | null>(null);
  // The names of the tiles whose stars were pressed, for an error that comes after they changed.
  const starLabels = useRef(new Map<string, string>());
  const { mutate: starOne } = useStarAsset({
    onError: (error, { id, starred }) =>
      setStarError(`Could not ${starred ? 'star' : 'unstar'} “${starLabels.current.get(id) ?? 'this item'}”: ${error.message}`),
  });
  const starMany = useStarAssets();
  // The tile whose star was pressed last, and its place: see the layout effect below.
  const starPressed = useRef<{ id: string; index: number } | null>(null);
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
  const keptSelection = keepOnly(selection, order);
  if (keptSelection !== selection) setSelection(keptSelection);

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
  const onStar = useCallback(
    (asset: Asset, starred: boolean) => {
      setStarError(null);
      starLabels.current.set(asset.id, assetLabel(asset));
      starPressed.current = { id: asset.id, index: orderRef.current.indexOf(asset.id) };
      starOne({ id: asset.id, starred });
    },
    [starOne],
  );

  // An asset unstarred in a starred-only list leaves it when the list comes back from the
  // server, and the button that had focus goes with it: focus moves to the tile now in its
  // place (or, with none left, to the "Starred" filter), not to the top of the page.
  useLayoutEffect(() => {
    const pressed = starPressed.current;
    if (pressed === null || order.includes(pressed.id)) return;
    starPressed.current = null;
    const active = document.activeElement;
    if (active !== null && active !== document.body && active.isConnected) return;
    const neighbour = order[Math.min(pressed.index, order.length - 1)];
    const target =
      neighbour === undefined
        ? document.querySelector<HTMLElement>('.filter-starred')
        : starOrTile(neighbour, byId.get(neighbour)?.groupId ?? null);
    target?.focus();
  }, [order, byId]);

  const starSelected = (starred: boolean) => {
    const ids = selectedIds;
    setStarError(null);
    starMany.mutate(
      { ids, starred },
      {
        onSuccess: () => setNotice(`${starred ? 'Starred' : 'Unstarred'} ${countOf(ids.length, 'item')}.`),
        onError: (error) => setStarError(`Could not ${starred ? 'star' : 'unstar'} the selected items: ${error.message}`),
      },
    );
  };

  const selectedIds = selectedInOrder(selection, order);
  const viewIndex = viewId === null ? -1 : order.indexOf(viewId);
  const listedPrev = viewIndex > 0 ? (order[viewIndex - 1] ?? null) : null;
  const listedNext = viewIndex >= 0 ? (order[viewIndex + 1] ?? null) : null;
  // The viewer keeps its place when its asset leaves the list (unstarred while the list shows
  // starred ones only): ← and → still go to the neighbours it had, while they are listed.
  const [place, setPlace] = useState<Place | null>(null);
  if (viewId !== null && viewIndex >= 0 && (place?.id !== viewId || place.prevId !== listedPrev || place.nextId !== listedNext)) {
    setPlace({ id: viewId, prevId: listedPrev, nextId: listedNext });
  }
  const kept = (id: string | null) => (id !== null && order.includes(id) ? id : null);
  const remembered = viewIndex < 0 && place !== null && place.id === viewId ? place : null;
  const prevId = remembered === null ? listedPrev : kept(remembered.prevId);
  const nextId = remembered === null ? listedNext : kept(remembered.nextId);
  const inGrid = viewIndex >= 0 || remembered !== null;
  /** The open button of a listed asset (its batch's, when collapsed). */
  const openButton = (id: string | null) => (id === null ? null : tileButton(id, byId.get(id)?.groupId ?? null));

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
  // The starred filter alone: nothing starred yet (other filters with it is a plain "no match").
  const starredOnly = filters.starred && !hasFilters({ ...filters, starred: false });
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
            <button type="button" className="button button-small" disabled={selectedIds.length === 0} onClick={() => starSelected(true)}>
              <span aria-hidden="true">★</span> Star selected
            </button>
            <button type="button" className="button button-small" disabled={selectedIds.length === 0} onClick={() => starSelected(false)}>
              <span aria-hidden="true">☆</span> Unstar selected
            </button>
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
      {starError !== null && <Alert tone="error">{starError}</Alert>}

      {assets.isPending && <TileGridSkeleton label="Loading your gallery…" />}
      {assets.isError && list.length === 0 && <Alert tone="error">Could not load the gallery: {assets.error.message}</Alert>}
      {assets.isSuccess && list.length === 0 && !filtered && (
        <div className="card empty-state" data-testid="gallery-empty">
          <p>
            No images yet — generate something in the <Link to={routes.studio.path}>{routes.studio.title}</Link>.
          </p>
        </div>
      )}
      {assets.isSuccess && list.length === 0 && starredOnly && (
        <div className="card empty-state" data-testid="gallery-no-starred">
          <p>No starred items yet: star the ones you want to keep.</p>
          <p className="muted">Press ☆ on an item or Star in its viewer; to star several at once, choose Select.</p>
        </div>
      )}
      {assets.isSuccess && list.length === 0 && filtered && !starredOnly && (
        <div className="card empty-state" data-testid="gallery-no-results">
          <p>Nothing matches these filters.</p>
          <p className="muted">
            {filters.starred
              ? 'Try other words, another kind or model, a wider date range, or turn off Starred to look through everything.'
              : 'Try other words, another kind or model, or a wider date range.'}
          </p>
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
                onStar={onStar}
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
                onStar={onStar}
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
          canLoadMore={inGrid && nextId === null && hasNextPage}
          onLoadMore={loadMore}
          onNavigate={(id) => setView(id, true)}
          onClose={() => setView(null, true)}
          onShare={onShare}
          onDelete={onDelete}
          // Its tile, else (it left a starred-only list) the neighbour now in its place.
          returnFocus={() => openButton(viewId) ?? openButton(nextId) ?? openButton(prevId)}
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
