import { memo, useRef, type MouseEvent } from 'react';
import { Link } from 'react-router';
import type { Asset } from '../../api/types';
import { referencePath, remixPath } from '../../lib/routes';
import { useNearViewport } from './useNearViewport';

/** A short name for an asset: its prompt, else its file name, else its kind and model. */
export function assetLabel(asset: Asset): string {
  const prompt = asset.prompt?.trim() ?? '';
  if (prompt !== '') return prompt.length > 80 ? `${prompt.slice(0, 79)}…` : prompt;
  if (asset.fileName !== '') return asset.fileName;
  return `${asset.resultKind} from ${asset.model}`;
}

const KIND_ICON: Partial<Record<Asset['resultKind'], string>> = { image: '🖼', video: '▶', audio: '♪' };

/** The tile's picture: a lazy image, a video's first frame once near the screen, or an icon. */
function Thumb({ asset }: { asset: Asset }) {
  const [ref, near] = useNearViewport<HTMLDivElement>();
  if (asset.resultKind === 'image') {
    return <img className="tile-media" src={asset.url} alt="" loading="lazy" decoding="async" draggable={false} />;
  }
  return (
    <div ref={ref} className={`tile-media tile-${asset.resultKind}`}>
      {asset.resultKind === 'video' && near && (
        // A poster frame only: no autoplay, no sound, metadata only until opened.
        <video className="tile-video" src={`${asset.url}#t=0.1`} preload="metadata" muted playsInline tabIndex={-1} />
      )}
      <span className="tile-icon" aria-hidden="true">
        {KIND_ICON[asset.resultKind] ?? '📄'}
      </span>
    </div>
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
}

/** One grid tile: opens the viewer (or toggles selection in select mode), with an actions menu. */
export const AssetTile = memo(function AssetTile({ asset, selecting, selected, onOpen, onSelect, onShare, onDelete }: TileProps) {
  const menu = useRef<HTMLDetailsElement>(null);
  const label = assetLabel(asset);
  const closeMenu = () => menu.current?.removeAttribute('open');
  const onClick = (event: MouseEvent<HTMLButtonElement>) => {
    if (selecting) onSelect(asset, event.shiftKey);
    else onOpen(asset);
  };
  return (
    <li className={selected ? 'tile selected' : 'tile'} data-asset-id={asset.id} data-kind={asset.resultKind}>
      <button
        type="button"
        className="tile-open"
        aria-label={selecting ? `Select ${label}` : `Open ${label}`}
        aria-pressed={selecting ? selected : undefined}
        title={label}
        onClick={onClick}
      >
        <Thumb asset={asset} />
        {selecting && <span className={selected ? 'tile-check checked' : 'tile-check'} aria-hidden="true" />}
      </button>
      {!selecting && (
        <details
          className="tile-menu"
          ref={menu}
          onKeyDown={(event) => {
            // Escape closes an open menu and puts focus back on its button.
            if (event.key !== 'Escape' || menu.current?.open !== true) return;
            event.preventDefault();
            event.stopPropagation();
            closeMenu();
            menu.current.querySelector<HTMLElement>('summary')?.focus();
          }}
          onBlur={(event) => {
            // Tabbing out of the menu closes it (a click elsewhere, with no new focus, leaves it be).
            const next = event.relatedTarget;
            if (next instanceof Node && !event.currentTarget.contains(next)) closeMenu();
          }}
        >
          <summary className="tile-menu-button" aria-label={`Actions for ${label}`}>
            ⋯
          </summary>
          <div className="tile-menu-items">
            <a href={asset.downloadUrl} download onClick={closeMenu}>
              Download
            </a>
            <Link to={remixPath(asset.id)}>Remix</Link>
            {asset.resultKind === 'image' && <Link to={referencePath(asset.id)}>Use as reference</Link>}
            <button
              type="button"
              onClick={() => {
                closeMenu();
                onShare(asset);
              }}
            >
              Share…
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                closeMenu();
                onDelete(asset);
              }}
            >
              Delete…
            </button>
          </div>
        </details>
      )}
    </li>
  );
});
