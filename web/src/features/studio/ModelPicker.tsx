import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { Model } from '../../api/types';
import { Alert } from '../../components/Alert';
import { ModelListSkeleton } from '../../components/Skeleton';
import { formatUnitPrice } from '../../lib/money';
import { useDebouncedValue } from '../../lib/useDebouncedValue';
import { humanEnum } from '../../lib/words';
import { useFavorites, useModels, useRecent, useToggleFavorite } from './api';

/** fal's category names, one chip each (fal files voice models under text-to-speech, not text-to-audio). */
export const CATEGORIES = [
  'text-to-image',
  'image-to-image',
  'image-to-video',
  'text-to-video',
  'text-to-audio',
  'text-to-speech',
  'video-to-video',
] as const;

export const STALE_MESSAGE = "fal's catalog is not answering; showing the last list we had.";
export const SEARCH_DEBOUNCE_MS = 250;

export function priceText(model: Pick<Model, 'price'>): string {
  return model.price == null ? 'price unknown' : formatUnitPrice(model.price);
}

/** The model's thumbnail, or a neutral tile when there is none or it fails to load. */
function Thumbnail({ url }: { url: string | null | undefined }) {
  const [failed, setFailed] = useState(false);
  if (url == null || failed) return <span className="thumb thumb-empty" aria-hidden="true" />;
  return <img className="thumb" src={url} alt="" loading="lazy" decoding="async" onError={() => setFailed(true)} />;
}

interface ModelListProps {
  label: string;
  models: readonly Model[];
  selectedIds: readonly string[];
  favoriteIds: ReadonlySet<string>;
  onSelect: (model: Model) => void;
  onToggleFavorite: (model: Model, favorite: boolean) => void;
}

function ModelList({ label, models, selectedIds, favoriteIds, onSelect, onToggleFavorite }: ModelListProps) {
  return (
    <ul className="model-list" aria-label={label}>
      {models.map((model) => {
        const selected = selectedIds.includes(model.endpointId);
        const favorite = favoriteIds.has(model.endpointId);
        return (
          <li key={model.endpointId} className={selected ? 'model-item selected' : 'model-item'}>
            <button
              type="button"
              className="model-select"
              aria-current={selected ? 'true' : undefined}
              onClick={() => onSelect(model)}
            >
              <Thumbnail key={model.thumbnailUrl ?? ''} url={model.thumbnailUrl} />
              <span className="model-text">
                <span className="model-name">{model.displayName}</span>
                <span className="model-id">{model.endpointId}</span>
                <span className="model-meta">
                  {model.category == null ? 'Uncategorised' : humanEnum(model.category)} · {priceText(model)}
                  {model.status === 'deprecated' && ' · deprecated'}
                </span>
              </span>
            </button>
            <button
              type="button"
              className={favorite ? 'star starred' : 'star'}
              aria-pressed={favorite}
              aria-label={`Favourite ${model.displayName}`}
              title={favorite ? 'Remove from favourites' : 'Add to favourites'}
              onClick={() => onToggleFavorite(model, !favorite)}
            >
              {favorite ? '★' : '☆'}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/**
 * Arrow keys in the picker: ↓ from the search box enters the list; ↑/↓ move between models
 * (across Favourites, Recent and the results), Home/End jump to the ends, ↑ at the top goes back
 * to the search box. Tab still visits every button in order.
 */
export function pickerArrowKeys(event: KeyboardEvent<HTMLElement>, scope: HTMLElement | null, search: HTMLElement | null) {
  if (scope === null || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  const items = [...scope.querySelectorAll<HTMLElement>('.model-select')];
  if (items.length === 0) return;
  const target = event.target as HTMLElement;
  const fromSearch = target === search;
  const at = items.indexOf(target);
  if (!fromSearch && at === -1) return;
  let next: HTMLElement | null | undefined;
  if (event.key === 'ArrowDown') next = fromSearch ? items[0] : items[Math.min(at + 1, items.length - 1)];
  else if (event.key === 'ArrowUp' && !fromSearch) next = at === 0 ? search : items[at - 1];
  else if (event.key === 'Home' && !fromSearch) next = items[0];
  else if (event.key === 'End' && !fromSearch) next = items.at(-1);
  if (next === undefined || next === null) return;
  event.preventDefault();
  next.focus();
  next.scrollIntoView?.({ block: 'nearest' });
}

interface ModelPickerProps {
  /** The model being edited, or in Compare mode the models chosen. */
  selectedIds: readonly string[];
  onSelect: (model: Model) => void;
}

export function ModelPicker({ selectedIds, onSelect }: ModelPickerProps) {
  const [query, setQuery] = useState('');
  const [category, setCategory] = useState<string | null>(null);
  const q = useDebouncedValue(query.trim(), SEARCH_DEBOUNCE_MS);
  const models = useModels(q, category);
  const favorites = useFavorites();
  const recent = useRecent();
  const toggle = useToggleFavorite();
  const sentinel = useRef<HTMLDivElement>(null);
  const scroll = useRef<HTMLDivElement>(null);
  const searchBox = useRef<HTMLInputElement>(null);
  const headingId = useId();

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = models;
  useEffect(() => {
    const node = sentinel.current;
    if (node === null || !hasNextPage || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const favoriteList = favorites.data?.models ?? [];
  const favoriteIds = new Set(favoriteList.map((model) => model.endpointId));
  const recentList = recent.data?.models ?? [];
  const results = models.data?.pages.flatMap((page) => page.models) ?? [];
  const stale = models.data?.pages.some((page) => page.stale) ?? false;
  const browsing = q === '' && category === null;
  const listProps = {
    selectedIds,
    favoriteIds,
    onSelect,
    onToggleFavorite: (model: Model, favorite: boolean) => toggle.mutate({ endpointId: model.endpointId, favorite }),
  };

  return (
    <section className="picker card" aria-labelledby={headingId}>
      <h2 id={headingId}>Models</h2>
      <input
        ref={searchBox}
        type="search"
        className="picker-search"
        aria-keyshortcuts="ArrowDown"
        onKeyDown={(event) => pickerArrowKeys(event, scroll.current, searchBox.current)}
        aria-label="Search models"
        placeholder="Search models"
        value={query}
        onChange={(event) => setQuery(event.target.value)}
      />
      <div className="chips" role="group" aria-label="Category">
        {[null, ...CATEGORIES].map((name) => (
          <button
            key={name ?? 'all'}
            type="button"
            className="chip"
            aria-pressed={category === name}
            onClick={() => setCategory(name)}
          >
            {name === null ? 'All' : humanEnum(name)}
          </button>
        ))}
      </div>
      {toggle.error && <Alert tone="error">Could not update favourites: {toggle.error.message}</Alert>}

      <div className="picker-scroll" ref={scroll} onKeyDown={(event) => pickerArrowKeys(event, scroll.current, searchBox.current)}>
        {browsing && favoriteList.length > 0 && (
          <section aria-label="Favourites">
            <h3 className="picker-section">Favourites</h3>
            <ModelList label="Favourite models" models={favoriteList} {...listProps} />
          </section>
        )}
        {browsing && recentList.length > 0 && (
          <section aria-label="Recent">
            <h3 className="picker-section">Recent</h3>
            <ModelList label="Recent models" models={recentList} {...listProps} />
          </section>
        )}
        <section aria-label="Results">
          <h3 className="picker-section">{browsing ? 'All models' : 'Results'}</h3>
          {stale && <Alert tone="info">{STALE_MESSAGE}</Alert>}
          {models.isPending && <ModelListSkeleton />}
          {models.isError && <Alert tone="error">Could not load models: {models.error.message}</Alert>}
          {models.isSuccess && results.length === 0 && <p className="muted">No model matches.</p>}
          <ModelList label="Models" models={results} {...listProps} />
          {hasNextPage && (
            <div ref={sentinel} className="picker-more">
              <button
                type="button"
                className="button"
                disabled={isFetchingNextPage}
                onClick={() => void fetchNextPage()}
              >
                {isFetchingNextPage ? 'Loading…' : 'Load more'}
              </button>
            </div>
          )}
        </section>
      </div>
    </section>
  );
}
