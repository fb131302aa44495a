import { useId, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../../api/client';
import type { Asset, AssetDetail } from '../../api/types';
import { Alert } from '../../components/Alert';
import { Modal } from '../../components/Modal';
import { RequestView } from '../../components/RequestView';
import { bucketLabel } from '../../lib/buckets';
import { referencePath, remixPath } from '../../lib/routes';
import { humanEnum } from '../../lib/words';
import { useAsset, usePendingStar, useStarAsset } from './api';
import { assetLabel } from './AssetTile';
import { formatBytes, formatDate, formatSeconds, paramEntries } from './format';

/** Keys the viewer leaves alone when they are meant for a control (a seek bar, a text box). */
function keepsArrows(target: EventTarget): boolean {
  return target instanceof HTMLElement && target.closest('input, textarea, select, video, audio, [contenteditable="true"]') !== null;
}

function Media({ asset }: { asset: Asset }) {
  const label = assetLabel(asset);
  switch (asset.resultKind) {
    case 'image':
      return <img key={asset.id} className="viewer-media" src={asset.url} alt={label} decoding="async" />;
    case 'video':
      return <video key={asset.id} className="viewer-media" src={asset.url} poster={asset.thumbnailUrl ?? undefined} controls preload="metadata" aria-label={label} />;
    case 'audio':
      return <audio key={asset.id} className="viewer-audio" src={asset.url} controls preload="metadata" aria-label={label} />;
    default:
      return (
        <p className="viewer-other">
          <a href={asset.url} target="_blank" rel="noreferrer">
            Open {asset.fileName}
          </a>{' '}
          ({asset.contentType})
        </p>
      );
  }
}

function Row({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="meta-row">
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

export function Metadata({ asset, detail }: { asset: Asset; detail: AssetDetail | undefined }) {
  const params = paramEntries(asset.params);
  const size = asset.width != null && asset.height != null ? `${asset.width} × ${asset.height}` : null;
  return (
    <div className="viewer-meta" data-testid="asset-metadata">
      <dl className="meta-list">
        <Row term="Model">
          {asset.model}
          {asset.model !== asset.endpointId && (
            <>
              {' '}
              <code>{asset.endpointId}</code>
            </>
          )}
        </Row>
        <Row term="Prompt">
          <span className="meta-prompt">{asset.prompt ?? '—'}</span>
        </Row>
        {asset.seed != null && <Row term="Seed">{asset.seed}</Row>}
        {size !== null && <Row term="Size">{size}</Row>}
        {asset.outputDuration != null && <Row term="Duration">{formatSeconds(asset.outputDuration)}</Row>}
        <Row term="File size">{formatBytes(asset.byteSize)}</Row>
        {asset.inferenceTime != null && <Row term="Inference time">{formatSeconds(asset.inferenceTime)}</Row>}
        <Row term="Created">{formatDate(asset.createdAt)}</Row>
        {detail?.job != null && (
          <Row term="Job">
            <code>{detail.job.id}</code> · {humanEnum(detail.job.status)}
            {detail.job.finishedAt != null && ` · finished ${formatDate(detail.job.finishedAt)}`}
          </Row>
        )}
      </dl>
      {params.length > 0 && (
        <>
          <h3>Parameters</h3>
          <dl className="meta-list params-list">
            {params.map(([key, value]) => (
              <Row key={key} term={key}>
                {value}
              </Row>
            ))}
          </dl>
        </>
      )}
      {detail !== undefined && detail.references.length > 0 && (
        <>
          <h3>Reference files</h3>
          <ul className="viewer-references" aria-label="Reference files">
            {detail.references.map((reference) => (
              <li key={reference.id}>
                <a href={reference.url} target="_blank" rel="noreferrer" title={`${bucketLabel(reference.bucket ?? reference.field)}: ${reference.fileName}`}>
                  {reference.contentType.startsWith('image/') ? (
                    <img src={reference.url} alt={`Reference ${reference.fileName}`} loading="lazy" decoding="async" />
                  ) : (
                    reference.fileName
                  )}
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/**
 * Keeps `--viewer-head` on the viewer's body at its header's height (margin included): the CSS
 * sizes the picture to the window less the dialog's frame and this, so the whole picture shows
 * without scrolling whatever the header wraps to.
 */
function useHeaderHeight() {
  const head = useRef<HTMLElement>(null);
  useLayoutEffect(() => {
    const header = head.current;
    const body = header?.parentElement;
    if (header === null || body === null || body === undefined) return;
    const update = () => {
      const margin = Number.parseFloat(getComputedStyle(header).marginBottom) || 0;
      // CSSOM, not a style attribute: the CSP allows it.
      body.style.setProperty('--viewer-head', `${Math.ceil(header.getBoundingClientRect().height + margin)}px`);
    };
    update();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(update);
    observer.observe(header);
    return () => observer.disconnect();
  }, []);
  return head;
}

interface ViewerProps {
  id: string;
  /** The asset as the grid has it, shown at once while its detail loads. */
  listed: Asset | undefined;
  prevId: string | null;
  nextId: string | null;
  /** The grid has more pages: "Next" at the end loads the next one. */
  canLoadMore: boolean;
  onLoadMore: () => void;
  onNavigate: (id: string) => void;
  onClose: () => void;
  onShare: (asset: Asset) => void;
  onDelete: (asset: Asset) => void;
  returnFocus: () => HTMLElement | null;
}

/** The full-size asset with its metadata and actions; ←/→ move through the loaded results. */
export function Viewer({ id, listed, prevId, nextId, canLoadMore, onLoadMore, onNavigate, onClose, onShare, onDelete, returnFocus }: ViewerProps) {
  const headingId = useId();
  const requestId = useId();
  const [showRequest, setShowRequest] = useState(false);
  const head = useHeaderHeight();
  const detail = useAsset(id);
  const asset: Asset | undefined = detail.data ?? listed;
  const [starError, setStarError] = useState<{ id: string; message: string } | null>(null);
  const { mutate: star, data: starSaved } = useStarAsset({
    onError: (error, change) => setStarError({ id: change.id, message: `Could not ${change.starred ? 'star' : 'unstar'} this item: ${error.message}` }),
  });
  // The star as pressed, at once; then as saved. Every cache that has the asset follows, but a
  // studio result opened before its detail loads is in none: the change under way and the
  // server's answer stand in until the detail comes.
  const pendingStar = usePendingStar(id);
  const savedStar = starSaved?.asset.id === id ? starSaved.asset.starred : undefined;
  const starred = pendingStar ?? detail.data?.starred ?? savedStar ?? listed?.starred ?? false;

  const goNext = () => {
    if (nextId !== null) onNavigate(nextId);
    else if (canLoadMore) onLoadMore();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDialogElement>) => {
    if (event.altKey || event.ctrlKey || event.metaKey || keepsArrows(event.target)) return;
    if (event.key === 'ArrowLeft' && prevId !== null) {
      event.preventDefault();
      onNavigate(prevId);
    } else if (event.key === 'ArrowRight') {
      event.preventDefault();
      goNext();
    }
  };

  return (
    <Modal labelledBy={headingId} onClose={onClose} onKeyDown={onKeyDown} className="viewer" returnFocus={returnFocus}>
      <header ref={head} className="viewer-head">
        <h2 id={headingId} className="viewer-title">
          {asset === undefined ? 'Asset' : assetLabel(asset)}
        </h2>
        <div className="viewer-nav">
          <button type="button" className="button button-small" disabled={prevId === null} onClick={() => prevId !== null && onNavigate(prevId)}>
            ← Previous
          </button>
          <button type="button" className="button button-small" disabled={nextId === null && !canLoadMore} onClick={goNext}>
            Next →
          </button>
          <button type="button" className="button button-small" onClick={onClose} data-autofocus>
            Close
          </button>
        </div>
      </header>
      {asset === undefined && detail.isPending && <p className="muted" role="status">Loading…</p>}
      {asset === undefined && detail.isError && (
        <Alert tone="error">
          {detail.error instanceof ApiError && detail.error.status === 404 ? 'This asset no longer exists.' : `Could not load this asset: ${detail.error.message}`}
        </Alert>
      )}
      {asset !== undefined && (
        <div className="viewer-content" data-asset-id={asset.id}>
          <div className="viewer-stage">
            <Media asset={asset} />
          </div>
          <aside className="viewer-side" aria-label="Details">
            <div className="viewer-actions">
              <button
                type="button"
                className={starred ? 'button button-small viewer-star starred' : 'button button-small viewer-star'}
                aria-pressed={starred}
                onClick={() => {
                  setStarError(null);
                  star({ id: asset.id, starred: !starred });
                }}
              >
                <span aria-hidden="true">{starred ? '★' : '☆'}</span> {starred ? 'Unstar' : 'Star'}
              </button>
              <a className="button button-small" href={asset.downloadUrl} download>
                Download
              </a>
              <Link className="button button-small" to={remixPath(asset.id)}>
                Remix
              </Link>
              {asset.seed != null && (
                <Link className="button button-small" to={remixPath(asset.id, 'same')}>
                  Remix with same seed
                </Link>
              )}
              {asset.resultKind === 'image' && (
                <Link className="button button-small" to={referencePath(asset.id)}>
                  Use as reference
                </Link>
              )}
              <button
                type="button"
                className="button button-small"
                aria-expanded={showRequest}
                aria-controls={requestId}
                disabled={detail.data === undefined}
                onClick={() => setShowRequest((shown) => !shown)}
              >
                Request
              </button>
              <button type="button" className="button button-small" onClick={() => onShare(asset)}>
                Share…
              </button>
              <button type="button" className="button button-small button-danger" onClick={() => onDelete(asset)}>
                Delete…
              </button>
            </div>
            {starError !== null && starError.id === asset.id && (
              <p className="field-error" role="alert">
                {starError.message}
              </p>
            )}
            {detail.isError && listed !== undefined && <p className="field-error">Could not load all details: {detail.error.message}</p>}
            {showRequest && detail.data !== undefined && (
              <section id={requestId} className="viewer-request" aria-label="Request sent to fal">
                <RequestView endpointId={asset.endpointId} params={asset.params} references={detail.data.references} sentInput={detail.data.job?.sentInput ?? null} />
              </section>
            )}
            <Metadata asset={asset} detail={detail.data} />
          </aside>
        </div>
      )}
    </Modal>
  );
}
