import { useEffect, useId, useState } from 'react';
import { useDebouncedValue } from '../../lib/useDebouncedValue';
import { PHONE_QUERY, useMediaQuery } from '../../lib/useMediaQuery';
import { useAssetModels } from './api';
import { hasFilters, KINDS, NO_FILTERS, validDay, type AssetKind, type Filters } from './filters';

export const SEARCH_DEBOUNCE_MS = 300;

/** What the kind filter offers, as people say it ("Audio", not "Audios"). */
export const KIND_LABELS: Record<AssetKind, string> = { image: 'Images', video: 'Videos', audio: 'Audio' };

/** How many filters besides the search are set: kind, model, from, to, starred. */
export function setFilterCount(filters: Filters): number {
  return [filters.kind, filters.model, filters.from, filters.to].filter((value) => value !== null).length + (filters.starred ? 1 : 0);
}

interface FilterBarProps {
  filters: Filters;
  onChange: (filters: Filters) => void;
  /** Whether a batch's outputs show as one stack (`?group=1`). */
  grouped: boolean;
  onGroupedChange: (grouped: boolean) => void;
}

/**
 * Search (debounced), kind, model, date range, "Starred" and "Group batches"; every change lands
 * in the URL. On a phone the search stays and the rest fold behind one "Filters" button.
 */
export function FilterBar({ filters, onChange, grouped, onGroupedChange }: FilterBarProps) {
  const ids = { q: useId(), kind: useId(), model: useId(), from: useId(), to: useId(), more: useId() };
  const phone = useMediaQuery(PHONE_QUERY);
  const [open, setOpen] = useState(false);
  const setCount = setFilterCount(filters);
  const models = useAssetModels();
  // The search box's own text, so typing is instant; it follows the URL when that changes (back).
  const [text, setText] = useState(filters.q);
  const [shownQ, setShownQ] = useState(filters.q);
  if (filters.q !== shownQ) {
    setShownQ(filters.q);
    setText(filters.q);
  }
  // The box answers a click at once: the URL, and the grid behind it, follow in a transition, and
  // a controlled box would show its old state until then. It follows the URL when that changes.
  const [groupChecked, setGroupChecked] = useState(grouped);
  const [shownGrouped, setShownGrouped] = useState(grouped);
  if (grouped !== shownGrouped) {
    setShownGrouped(grouped);
    setGroupChecked(grouped);
  }
  // Likewise the "Starred" toggle: pressed at once, the list follows.
  const [starredOn, setStarredOn] = useState(filters.starred);
  const [shownStarred, setShownStarred] = useState(filters.starred);
  if (filters.starred !== shownStarred) {
    setShownStarred(filters.starred);
    setStarredOn(filters.starred);
  }
  const settled = useDebouncedValue(text, SEARCH_DEBOUNCE_MS);
  useEffect(() => {
    if (settled === text && settled !== filters.q) onChange({ ...filters, q: settled });
  }, [settled, text, filters, onChange]);

  const modelOptions = models.data?.models ?? [];
  const knownModel = filters.model === null || modelOptions.some((m) => m.endpointId === filters.model);
  return (
    <form className="gallery-filters" role="search" aria-label="Filter the gallery" onSubmit={(event) => {
      event.preventDefault();
      if (text !== filters.q) onChange({ ...filters, q: text });
    }}>
      <div className="field filter-search">
        <label htmlFor={ids.q}>Search</label>
        <input id={ids.q} type="search" placeholder="Prompt or model" value={text} onChange={(event) => setText(event.target.value)} />
      </div>
      {phone && (
        <button
          type="button"
          className="button filters-toggle"
          aria-expanded={open}
          aria-controls={ids.more}
          onClick={() => setOpen((value) => !value)}
        >
          Filters{setCount > 0 && ` (${setCount})`}
        </button>
      )}
      {(!phone || open) && (
        <div className="filter-more" id={ids.more}>
          <div className="field">
            <label htmlFor={ids.kind}>Kind</label>
            <select
              id={ids.kind}
              value={filters.kind ?? ''}
              onChange={(event) => onChange({ ...filters, kind: KINDS.find((kind) => kind === event.target.value) ?? null })}
            >
              <option value="">All</option>
              {KINDS.map((kind) => (
                <option key={kind} value={kind}>
                  {KIND_LABELS[kind]}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={ids.model}>Model</label>
            <select
              id={ids.model}
              value={filters.model ?? ''}
              onChange={(event) => onChange({ ...filters, model: event.target.value === '' ? null : event.target.value })}
            >
              <option value="">All models</option>
              {!knownModel && filters.model !== null && <option value={filters.model}>{filters.model}</option>}
              {modelOptions.map((model) => (
                <option key={model.endpointId} value={model.endpointId}>
                  {model.model} ({model.count})
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={ids.from}>From</label>
            <input
              id={ids.from}
              type="date"
              value={filters.from ?? ''}
              max={filters.to ?? undefined}
              onChange={(event) => onChange({ ...filters, from: validDay(event.target.value) })}
            />
          </div>
          <div className="field">
            <label htmlFor={ids.to}>To</label>
            <input
              id={ids.to}
              type="date"
              value={filters.to ?? ''}
              min={filters.from ?? undefined}
              onChange={(event) => onChange({ ...filters, to: validDay(event.target.value) })}
            />
          </div>
          <button
            type="button"
            className="chip filter-starred"
            aria-pressed={starredOn}
            onClick={() => {
              setStarredOn(!starredOn);
              onChange({ ...filters, starred: !starredOn });
            }}
          >
            <span aria-hidden="true">{starredOn ? '★' : '☆'}</span> Starred
          </button>
          <label className="check filter-group">
            <input
              type="checkbox"
              checked={groupChecked}
              onChange={(event) => {
                setGroupChecked(event.target.checked);
                onGroupedChange(event.target.checked);
              }}
            />
            Group batches
          </label>
          {hasFilters(filters) && (
            <button
              type="button"
              className="button button-small filter-clear"
              onClick={() => {
                setText('');
                setStarredOn(false);
                onChange(NO_FILTERS);
              }}
            >
              Clear filters
            </button>
          )}
        </div>
      )}
    </form>
  );
}
