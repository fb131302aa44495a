/**
 * The viewer over a given list of assets (the studio's results), with its share and delete
 * dialogs: the app plugs it into `AssetViewerContext`, loaded the first time a result is opened.
 */
import { useState } from 'react';
import type { Asset } from '../../api/types';
import type { AssetViewerProps } from '../../components/assetViewer';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { useDeleteAsset } from './api';
import { ShareDialog } from './ShareDialog';
import { Viewer } from './Viewer';

type Pending = { kind: 'share' | 'delete'; asset: Asset };

export function ResultViewer({ viewing, onNavigate, onClose, onDeleted, returnFocus }: AssetViewerProps) {
  const deleteOne = useDeleteAsset();
  const [pending, setPending] = useState<Pending | null>(null);
  const order = viewing.among.map((asset) => asset.id);
  const index = order.indexOf(viewing.id);
  const prevId = index > 0 ? (order[index - 1] ?? null) : null;
  const nextId = index >= 0 ? (order[index + 1] ?? null) : null;

  const confirmDelete = (asset: Asset) =>
    deleteOne.mutate(asset.id, {
      onSuccess: () => {
        setPending(null);
        onDeleted(asset.id);
      },
    });

  return (
    <>
      <Viewer
        id={viewing.id}
        listed={viewing.among[index]}
        prevId={prevId}
        nextId={nextId}
        canLoadMore={false}
        onLoadMore={() => undefined}
        onNavigate={onNavigate}
        onClose={onClose}
        onShare={(asset) => setPending({ kind: 'share', asset })}
        onDelete={(asset) => setPending({ kind: 'delete', asset })}
        returnFocus={returnFocus}
      />
      {pending?.kind === 'share' && <ShareDialog asset={pending.asset} onClose={() => setPending(null)} />}
      {pending?.kind === 'delete' && (
        <ConfirmDialog
          title="Delete this item?"
          confirmLabel="Delete"
          pendingLabel="Deleting…"
          pending={deleteOne.isPending}
          error={deleteOne.error?.message ?? null}
          onConfirm={() => confirmDelete(pending.asset)}
          onCancel={() => {
            deleteOne.reset();
            setPending(null);
          }}
        >
          <p>The file is removed from storage and its share links stop working. This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
