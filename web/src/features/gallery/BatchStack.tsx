import { memo, useEffect, useId, useRef, type MouseEvent } from 'react';
import type { Asset } from '../../api/types';
import { AssetTile, assetLabel, Thumb, tileDetails } from './AssetTile';
import { batchName, firstWords } from './grouping';

interface BatchStackProps {
  groupId: string;
  /** Two or more, newest first. */
  assets: readonly Asset[];
  expanded: boolean;
  selecting: boolean;
  selectedIds: ReadonlySet<string>;
  onToggle: (groupId: string) => void;
  onSelectBatch: (ids: readonly string[], shift: boolean) => void;
  onOpen: (asset: Asset) => void;
  onSelect: (asset: Asset, shift: boolean) => void;
  onShare: (asset: Asset) => void;
  onDelete: (asset: Asset) => void;
  onStar: (asset: Asset, starred: boolean) => void;
}

/**
 * One batch in a grouped gallery: collapsed, its newest tile with a count badge, which expands the
 * batch in place; expanded, a full-width row of its tiles under a heading with a "Collapse" button.
 * In select mode the collapsed stack selects the whole batch (a batch is what people keep or throw
 * away together, and a half-hidden choice would be worse), and a small "Expand" button beside it
 * lets single assets be picked.
 */
export const BatchStack = memo(function BatchStack({
  groupId,
  assets,
  expanded,
  selecting,
  selectedIds,
  onToggle,
  onSelectBatch,
  onOpen,
  onSelect,
  onShare,
  onDelete,
  onStar,
}: BatchStackProps) {
  const infoId = useId();
  const headingId = useId();
  const listId = useId();
  const stackButton = useRef<HTMLButtonElement>(null);
  const collapseButton = useRef<HTMLButtonElement>(null);
  // The button pressed goes away with the toggle; focus follows to its counterpart, and only
  // after a press, so a batch expanded by anything else never steals the focus.
  const focusAfterToggle = useRef(false);
  useEffect(() => {
    if (!focusAfterToggle.current) return;
    focusAfterToggle.current = false;
    (expanded ? collapseButton : stackButton).current?.focus();
  }, [expanded]);
  const toggle = () => {
    focusAfterToggle.current = true;
    onToggle(groupId);
  };

  const newest = assets[0];
  if (newest === undefined) return null;
  const count = `${assets.length} results`;
  const ids = assets.map((asset) => asset.id);
  // A compare batch is named for what it is, not for its newest model.
  const { name, models } = batchName(assets);
  // Starred assets stay visible in a collapsed batch: a count on the stack, and in its description.
  const starredCount = assets.filter((asset) => asset.starred).length;
  const description = `${models.length > 1 ? `${name} (${models.join(', ')}), one batch` : `${name}, one batch`}${starredCount > 0 ? `, ${starredCount} starred` : ''}`;

  if (expanded) {
    const prompt = firstWords(newest.prompt);
    return (
      <li className="batch" data-group-id={groupId}>
        <div className="batch-head">
          <h2 className="batch-title" id={headingId}>
            {/* The spaces between are for the heading's spoken name; the layout spaces by gap. */}
            <span className="batch-model">{name}</span>{' '}
            {prompt !== '' && <span className="batch-prompt">“{prompt}”</span>}{' '}
            <span className="muted batch-count">· {count}</span>
          </h2>
          <button
            ref={collapseButton}
            type="button"
            className="button button-small"
            aria-expanded="true"
            aria-controls={listId}
            aria-describedby={headingId}
            onClick={toggle}
          >
            Collapse
          </button>
        </div>
        <ul className="gallery-grid batch-grid" id={listId} aria-labelledby={headingId}>
          {assets.map((asset) => (
            <AssetTile
              key={asset.id}
              asset={asset}
              selecting={selecting}
              selected={selectedIds.has(asset.id)}
              onOpen={onOpen}
              onSelect={onSelect}
              onShare={onShare}
              onDelete={onDelete}
              onStar={onStar}
            />
          ))}
        </ul>
      </li>
    );
  }

  const label = assetLabel(newest);
  const details = tileDetails(newest);
  const chosen = ids.filter((id) => selectedIds.has(id)).length;
  const pressed = chosen === 0 ? false : chosen === ids.length ? true : 'mixed';
  const onClick = (event: MouseEvent<HTMLButtonElement>) => {
    if (selecting) onSelectBatch(ids, event.shiftKey);
    else toggle();
  };
  return (
    <li className={pressed === false ? 'tile stack' : 'tile stack selected'} data-group-id={groupId} data-kind={newest.resultKind}>
      <button
        ref={stackButton}
        type="button"
        className="tile-open"
        // The badge's words lead the name, so speech input can say what the eye reads (WCAG 2.5.3).
        aria-label={selecting ? `Select ${count}: ${label}` : `${count}: ${label}`}
        aria-describedby={infoId}
        aria-expanded={selecting ? undefined : false}
        aria-pressed={selecting ? pressed : undefined}
        onClick={onClick}
      >
        <Thumb asset={newest} />
        <span className="stack-count" data-testid="stack-count" aria-hidden="true">
          {count}
        </span>
        {starredCount > 0 && (
          <span className="stack-starred" data-testid="stack-starred" aria-hidden="true">
            ★ {starredCount}
          </span>
        )}
        {selecting && <span className={pressed === true ? 'tile-check checked' : pressed === 'mixed' ? 'tile-check mixed' : 'tile-check'} aria-hidden="true" />}
      </button>
      <span className="tile-info" aria-hidden="true">
        <span className="tile-model">{name}</span>
        {details.prompt !== null && <span className="tile-prompt">{details.prompt}</span>}
      </span>
      <span className="visually-hidden" id={infoId}>
        {description}
      </span>
      {selecting && (
        <div className="tile-menu">
          <button type="button" className="tile-menu-button stack-expand" aria-expanded="false" aria-label={`Expand ${count}: ${label}`} onClick={toggle}>
            Expand
          </button>
        </div>
      )}
    </li>
  );
});
