import type { KeyboardEvent } from 'react';

/** `aria-keyshortcuts` of a form's submit button: Ctrl+Enter, or ⌘+Enter on a Mac. */
export const SUBMIT_KEYS = 'Control+Enter Meta+Enter';
export const SUBMIT_KEYS_TEXT = 'Ctrl+Enter or ⌘+Enter';

/**
 * Ctrl/⌘+Enter anywhere in the form submits it, textareas included (where plain Enter is a new
 * line). `requestSubmit` goes through the form's own submit handler, so its checks still apply.
 */
export function submitOnModEnter(event: KeyboardEvent<HTMLFormElement>): void {
  if (event.key !== 'Enter' || !(event.ctrlKey || event.metaKey) || event.altKey || event.nativeEvent.isComposing) return;
  event.preventDefault();
  event.currentTarget.requestSubmit();
}
