/**
 * The app's asset viewer as a slot: the gallery feature implements it, the app layer plugs it in
 * (lazily), and the studio opens its results in it without importing the gallery.
 */
import { createContext, type ReactNode } from 'react';
import type { Asset } from '../api/types';

export interface Viewing {
  id: string;
  /** The assets ← and → move through, as they were when the viewer opened. */
  among: readonly Asset[];
}

export interface AssetViewerProps {
  viewing: Viewing;
  onNavigate: (id: string) => void;
  onClose: () => void;
  /** The asset was deleted from the viewer: move to a neighbour or close, and forget it. */
  onDeleted: (id: string) => void;
  /** Where focus goes when the viewer closes. */
  returnFocus: () => HTMLElement | null;
}

/** Renders the viewer (a function rather than a component, so the slot is not a component made during render). */
export const AssetViewerContext = createContext<((props: AssetViewerProps) => ReactNode) | null>(null);

/** The viewer after `id` is deleted: its neighbour (the next, else the previous), or none. */
export function afterDeletion(viewing: Viewing, id: string): Viewing | null {
  const index = viewing.among.findIndex((asset) => asset.id === id);
  const among = viewing.among.filter((asset) => asset.id !== id);
  if (viewing.id !== id) return { ...viewing, among };
  const neighbour = among[index] ?? among[index - 1];
  return neighbour === undefined ? null : { id: neighbour.id, among };
}
