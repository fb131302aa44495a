import { useEffect, useRef, type KeyboardEvent, type ReactNode } from 'react';

const FOCUSABLE = [
  'a[href]',
  'button:not([disabled])',
  'input:not([disabled]):not([type="hidden"])',
  'select:not([disabled])',
  'textarea:not([disabled])',
  'video[controls]',
  'audio[controls]',
  '[tabindex]:not([tabindex="-1"])',
].join(',');

/** The elements Tab moves through inside `root`, in document order. */
export function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((element) => !element.closest('[inert]'));
}

interface ModalProps {
  /** The id of the dialog's heading (`aria-labelledby`). */
  labelledBy: string;
  onClose: () => void;
  children: ReactNode;
  className?: string;
  /** Keys the dialog itself does not handle (Escape and Tab are handled here). */
  onKeyDown?: (event: KeyboardEvent<HTMLDialogElement>) => void;
  /** Where focus goes on close; by default the element focused when the dialog opened. */
  returnFocus?: () => HTMLElement | null;
}

/**
 * A modal `<dialog>` (`showModal()`, so the page behind is inert in the browser) that also keeps
 * Tab inside itself, closes on Escape (only the innermost of nested dialogs) and on a click on
 * the backdrop, and puts focus back where it was when it closes.
 */
export function Modal({ labelledBy, onClose, children, className, onKeyDown, returnFocus }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  // The latest props, read when the dialog unmounts (the effect below runs once per mount).
  const latest = useRef({ onClose, returnFocus });
  useEffect(() => {
    latest.current = { onClose, returnFocus };
  });

  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) {
      try {
        dialog.showModal();
      } catch {
        dialog.setAttribute('open', '');
      }
    }
    const first = dialog.querySelector<HTMLElement>('[data-autofocus]') ?? focusables(dialog)[0] ?? dialog;
    first.focus();
    return () => {
      if (dialog.open) dialog.close();
      const restore = () => {
        const target = latest.current.returnFocus?.() ?? previous;
        if (target === null || !target.isConnected) return false;
        target.focus();
        return true;
      };
      // The element to return to may be re-rendering in the same update that closes the
      // dialog (a gallery tile while the list refreshes): try again once it has painted.
      if (!restore()) requestAnimationFrame(() => restore());
    };
  }, []);

  const handleKeyDown = (event: KeyboardEvent<HTMLDialogElement>) => {
    // The innermost dialog answers; an enclosing one must not also act on the same key.
    event.stopPropagation();
    const dialog = ref.current;
    if (dialog === null) return;
    if (event.key === 'Escape') {
      event.preventDefault();
      onClose();
      return;
    }
    if (event.key === 'Tab') {
      const items = focusables(dialog);
      const first = items[0];
      const last = items.at(-1);
      if (first === undefined || last === undefined) {
        event.preventDefault();
        return;
      }
      const active = document.activeElement;
      if (event.shiftKey && (active === first || !dialog.contains(active))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (active === last || !dialog.contains(active))) {
        event.preventDefault();
        first.focus();
      }
      return;
    }
    onKeyDown?.(event);
  };

  return (
    <dialog
      ref={ref}
      className={className === undefined ? 'modal' : `modal ${className}`}
      aria-labelledby={labelledBy}
      aria-modal="true"
      tabIndex={-1}
      onKeyDown={handleKeyDown}
      onCancel={(event) => {
        // The browser's own Escape handling: close through React state instead.
        event.preventDefault();
        onClose();
      }}
      onClick={(event) => {
        if (event.target === event.currentTarget) onClose();
      }}
    >
      <div className="modal-body">{children}</div>
    </dialog>
  );
}
