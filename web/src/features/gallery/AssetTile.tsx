import { memo, useId, type MouseEvent } from 'react';
import type { Asset } from '../../api/types';
import { referencePath, remixPath } from '../../lib/routes';
import { formatClockTime } from './format';
import { TileMenu } from './TileMenu';
import { useNearViewport } from './useNearViewport';

/** A short name for an asset: its prompt, else its file name, else its kind and model. */
export function assetLabel(asset: Asset): string {
  const prompt = asset.prompt?.trim() ?? '';
  if (prompt !== '') return prompt.length > 80 ? `${prompt.slice(0, 79)}…` : prompt;
  if (asset.fileName !== '') return asset.fileName;
  return `${asset.resultKind} from ${asset.model}`;
}

const KIND_ICON: Partial<Record<Asset['resultKind'], string>> = { image: '🖼', video: '▶', audio: '♪' };

/**
 * The tile's picture: the server's 512 px thumbnail (a video's poster frame) when it has made
 * one, which is a tenth of the bytes of the output or less; until then the image itself, a
 * video's first frame once near the screen, or an icon.
 */
export function Thumb({ asset }: { asset: Asset }) {
  const [ref, near] = useNearViewport<HTMLDivElement>();
  const thumbnail = asset.thumbnailUrl ?? null;
  if (asset.resultKind === 'image') {
    return <img className="tile-media" src={thumbnail ?? asset.url} alt="" loading="lazy" decoding="async" draggable={false} />;
  }
  return (
    <div ref={ref} className={`tile-media tile-${asset.resultKind}`}>
      {thumbnail !== null && <img className="tile-video" src={thumbnail} alt="" loading="lazy" decoding="async" draggable={false} />}
      {asset.resultKind === 'video' && thumbnail === null && near && (
        // A poster frame only: no autoplay, no sound, metadata only until opened.
        <video className="tile-video" src={`${asset.url}#t=0.1`} preload="metadata" muted playsInline tabIndex={-1} />
      )}
      <span className="tile-icon" aria-hidden="true" data-testid="tile-icon">
        {KIND_ICON[asset.resultKind] ?? '📄'}
      </span>
    </div>
  );
}

/** What the tile says about itself on hover and focus (and to a screen reader, as its description). */
export function tileDetails(asset: Asset): { model: string; prompt: string | null; duration: string | null } {
  const prompt = asset.prompt?.trim() ?? '';
  const timed = (asset.resultKind === 'video' || asset.resultKind === 'audio') && asset.outputDuration != null;
  return {
    model: asset.model,
    prompt: prompt === '' ? null : prompt,
    duration: timed ? formatClockTime(asset.outputDuration ?? 0) : null,
  };
}

/** The star toggle's words: what pressing it does, and of what. */
export const starLabel = (starred: boolean, label: string) => `${starred ? 'Unstar' : 'Star'} ${label}`;

interface StarButtonProps {
  asset: Asset;
  label: string;
  onStar: (asset: Asset, starred: boolean) => void;
}

/**
 * A tile's star: an outline ☆ on hover and focus, a filled ★ always once starred. A button of
 * its own beside the tile's open button, so pressing it never opens the viewer or selects.
 */
export function StarButton({ asset, label, onStar }: StarButtonProps) {
  const starred = asset.starred;
  return (
    <button
      type="button"
      className="tile-star"
      aria-pressed={starred}
      aria-label={starLabel(starred, label)}
      title={starred ? 'Unstar' : 'Star'}
      data-testid="tile-star"
      onClick={() => onStar(asset, !starred)}
    >
      <span aria-hidden="true">{starred ? '★' : '☆'}</span>
    </button>
  );
}

interface TileProps {
  asset: Asset;
  selecting: boolean;
  selected: boolean;
  onOpen: (asset: Asset) => void;
  onSelect: (asset: Asset, shift: boolean) => void;
  onShare: (asset: Asset) => void;
  onDelete: (asset: Asset) => void;
  onStar: (asset: Asset, starred: boolean) => void;
}

/** One grid tile: opens the viewer (or toggles selection in select mode), with a star and an actions menu. */
export const AssetTile = memo(function AssetTile({ asset, selecting, selected, onOpen, onSelect, onShare, onDelete, onStar }: TileProps) {
  const infoId = useId();
  const label = assetLabel(asset);
  const details = tileDetails(asset);
  const onClick = (event: MouseEvent<HTMLButtonElement>) => {
    if (selecting) onSelect(asset, event.shiftKey);
    else onOpen(asset);
  };
  return (
    <li
      className={selected ? 'tile selected' : 'tile'}
      data-asset-id={asset.id}
      data-kind={asset.resultKind}
      data-starred={asset.starred ? 'true' : undefined}
    >
      <button
        type="button"
        className="tile-open"
        aria-label={selecting ? `Select ${label}` : `Open ${label}`}
        aria-describedby={infoId}
        aria-pressed={selecting ? selected : undefined}
        onClick={onClick}
      >
        <Thumb asset={asset} />
        {selecting && <span className={selected ? 'tile-check checked' : 'tile-check'} aria-hidden="true" />}
      </button>
      {/* Beside the button, not in it: a button's visible words must be its name (WCAG 2.5.3).
          Shown on hover and focus; the name has the prompt, the description the rest. */}
      {details.duration !== null && (
        <span className="tile-duration" data-testid="tile-duration" aria-hidden="true">
          {asset.resultKind === 'video' ? '▶' : '♪'} {details.duration}
        </span>
      )}
      <span className="tile-info" data-testid="tile-info" aria-hidden="true">
        <span className="tile-model">{details.model}</span>
        {details.prompt !== null && <span className="tile-prompt">{details.prompt}</span>}
      </span>
      <span className="visually-hidden" id={infoId}>
        {details.duration === null ? details.model : `${details.model}, ${asset.resultKind} ${details.duration}`}
        {asset.starred && ', starred'}
      </span>
      <div className="tile-actions">
        <StarButton asset={asset} label={label} onStar={onStar} />
        {!selecting && (
          <div className="tile-menu">
            <TileMenu
              label={`Actions for ${label}`}
              items={[
                { kind: 'download', label: 'Download', href: asset.downloadUrl },
                { kind: 'route', label: 'Remix', to: remixPath(asset.id) },
                ...(asset.seed != null ? [{ kind: 'route', label: 'Remix with same seed', to: remixPath(asset.id, 'same') } as const] : []),
                ...(asset.resultKind === 'image' ? [{ kind: 'route', label: 'Use as reference', to: referencePath(asset.id) } as const] : []),
                { kind: 'action', label: 'Share…', onSelect: () => onShare(asset) },
                { kind: 'action', label: 'Delete…', onSelect: () => onDelete(asset), danger: true },
              ]}
            />
          </div>
        )}
      </div>
    </li>
  );
});
