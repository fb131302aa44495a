import { useId, useRef, useState, type FormEvent } from 'react';
import type { Asset, Share } from '../../api/types';
import { Alert } from '../../components/Alert';
import { Modal } from '../../components/Modal';
import { useAssetShares, useCreateShare, useRevokeShare } from './api';
import { describeShare, EXPIRY_OPTIONS } from './format';

type CopyState = 'idle' | 'copied' | 'manual';

/** Copies with the Clipboard API; where it is missing or refused, selects the text for Ctrl+C. */
export async function copyText(text: string, input: HTMLInputElement | null): Promise<CopyState> {
  try {
    if (navigator.clipboard === undefined) throw new Error('no clipboard');
    await navigator.clipboard.writeText(text);
    return 'copied';
  } catch {
    input?.focus();
    input?.select();
    return 'manual';
  }
}

/** One share link with its options and a Revoke button; `onRevoked` hears when it is gone. */
export function ShareRow({ share, showAsset = false, onRevoked }: { share: Share; showAsset?: boolean; onRevoked?: (token: string) => void }) {
  const revoke = useRevokeShare(onRevoked);
  return (
    <li className="share-row" data-token={share.token}>
      {showAsset && (share.asset.thumbnailUrl != null || share.asset.resultKind === 'image') && (
        <img className="share-thumb" src={share.asset.thumbnailUrl ?? share.asset.url} alt="" loading="lazy" decoding="async" />
      )}
      <div className="share-text">
        <a href={share.url} target="_blank" rel="noreferrer" className="share-url">
          {share.url}
        </a>
        <span className="muted share-options">{describeShare(share)}</span>
        {showAsset && <span className="muted">{share.asset.model}</span>}
        {revoke.error !== null && <span className="field-error">Could not revoke: {revoke.error.message}</span>}
      </div>
      <button
        type="button"
        className="button button-small button-danger"
        disabled={revoke.isPending}
        aria-label={`Revoke ${share.url}`}
        onClick={() => revoke.mutate(share.token)}
      >
        {revoke.isPending ? 'Revoking…' : 'Revoke'}
      </button>
    </li>
  );
}

function AssetShares({ assetId, onRevoked }: { assetId: string; onRevoked: (token: string) => void }) {
  const shares = useAssetShares(assetId);
  if (shares.isPending) return <p className="muted">Loading the links…</p>;
  if (shares.isError) return <Alert tone="error">Could not load the links: {shares.error.message}</Alert>;
  if (shares.data.shares.length === 0) return <p className="muted">No active links.</p>;
  return (
    <ul className="share-list" aria-label="Active links">
      {shares.data.shares.map((share) => (
        <ShareRow key={share.token} share={share} onRevoked={onRevoked} />
      ))}
    </ul>
  );
}

/** Creates a public link for one asset (expiry, download, prompt, password) and lists its links. */
export function ShareDialog({ asset, onClose }: { asset: Asset; onClose: () => void }) {
  const headingId = useId();
  const ids = { expiry: useId(), password: useId(), link: useId() };
  const create = useCreateShare(asset.id);
  const [expiry, setExpiry] = useState('0');
  const [allowDownload, setAllowDownload] = useState(true);
  const [showPrompt, setShowPrompt] = useState(true);
  const [password, setPassword] = useState('');
  const [copy, setCopy] = useState<CopyState>('idle');
  /** Tokens revoked while the dialog is open: a link made here and then revoked is not offered. */
  const [revoked, setRevoked] = useState<ReadonlySet<string>>(() => new Set());
  const linkRef = useRef<HTMLInputElement>(null);

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const seconds = EXPIRY_OPTIONS[Number(expiry)]?.seconds ?? null;
    setCopy('idle');
    create.mutate(
      {
        allowDownload,
        showPrompt,
        ...(seconds === null ? {} : { expiresInSeconds: seconds }),
        ...(password === '' ? {} : { password }),
      },
      // The password went with that link; the next one starts without.
      { onSuccess: () => setPassword('') },
    );
  };

  const created = create.data ?? null;
  const link = created === null || revoked.has(created.token) ? null : created.url;
  return (
    <Modal labelledBy={headingId} onClose={onClose} className="share-dialog">
      <h2 id={headingId}>Share {asset.resultKind === 'other' ? 'file' : asset.resultKind}</h2>
      <form className="form share-form" onSubmit={onSubmit} aria-label="New share link">
        <div className="field">
          <label htmlFor={ids.expiry}>Link expires</label>
          <select id={ids.expiry} value={expiry} onChange={(event) => setExpiry(event.target.value)}>
            {EXPIRY_OPTIONS.map((option, index) => (
              <option key={option.label} value={String(index)}>
                {index === 0 ? option.label : `After ${option.label}`}
              </option>
            ))}
          </select>
        </div>
        <label className="check">
          <input type="checkbox" checked={allowDownload} onChange={(event) => setAllowDownload(event.target.checked)} />
          Allow download
        </label>
        <label className="check">
          <input type="checkbox" checked={showPrompt} onChange={(event) => setShowPrompt(event.target.checked)} />
          Show prompt &amp; parameters
        </label>
        <div className="field">
          <label htmlFor={ids.password}>Password (optional)</label>
          <input
            id={ids.password}
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </div>
        {create.error !== null && <Alert tone="error">Could not create the link: {create.error.message}</Alert>}
        <div className="modal-actions">
          <button type="submit" className="button button-primary" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create link'}
          </button>
        </div>
      </form>

      {created !== null && link === null && (
        <p className="muted share-revoked" role="status" data-testid="share-revoked">
          The link you made was revoked: it no longer opens.
        </p>
      )}
      {link !== null && (
        <div className="share-created">
          <label htmlFor={ids.link}>Link</label>
          <div className="copy-row">
            <input id={ids.link} ref={linkRef} readOnly value={link} data-testid="share-link" onFocus={(event) => event.target.select()} />
            <button
              type="button"
              className="button"
              onClick={() => void copyText(link, linkRef.current).then(setCopy)}
            >
              Copy
            </button>
          </div>
          <p className="field-hint" role="status">
            {copy === 'copied' ? 'Copied to the clipboard.' : copy === 'manual' ? 'Selected: press Ctrl+C (⌘C) to copy.' : ''}
          </p>
        </div>
      )}

      <h3>Active links</h3>
      <AssetShares assetId={asset.id} onRevoked={(token) => setRevoked((prev) => new Set(prev).add(token))} />
      <div className="modal-actions">
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}
