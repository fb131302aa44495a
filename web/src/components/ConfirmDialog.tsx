import { useId, type ReactNode } from 'react';
import { Alert } from './Alert';
import { Modal } from './Modal';

interface ConfirmDialogProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  pendingLabel: string;
  pending: boolean;
  error: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}

/** "Are you sure?" for destructive actions; Cancel has the focus first. */
export function ConfirmDialog({ title, children, confirmLabel, pendingLabel, pending, error, onConfirm, onCancel }: ConfirmDialogProps) {
  const headingId = useId();
  return (
    <Modal labelledBy={headingId} onClose={onCancel} className="modal-small">
      <h2 id={headingId}>{title}</h2>
      <div className="confirm-text">{children}</div>
      {error !== null && <Alert tone="error">{error}</Alert>}
      <div className="modal-actions">
        <button type="button" className="button" onClick={onCancel} data-autofocus>
          Cancel
        </button>
        <button type="button" className="button button-danger" disabled={pending} onClick={onConfirm}>
          {pending ? pendingLabel : confirmLabel}
        </button>
      </div>
    </Modal>
  );
}
