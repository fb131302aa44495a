import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { createPortal } from 'react-dom';
import { Link } from 'react-router';
import { focusables } from '../../components/Modal';

/** Space kept between the menu and the button, and between the menu and the window's edges. */
const GAP = 4;
const MARGIN = 8;

interface Box {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export interface MenuPlacement {
  top: number;
  left: number;
  /** Set when even the whole window is too short: the menu scrolls. */
  maxHeight: number | null;
  side: 'below' | 'above';
}

/**
 * Where the menu goes across: lined up with its own tile (`frame`) where the window has room.
 * Right edges together when it fits in the tile (the "⋯" is in the tile's right corner); wider
 * than the tile, left edges together, so it spreads over the gap to its right rather than off
 * to the window's edge; else right edges together; only when neither fits is it pushed inside
 * the window. Without a frame, right edges with the button's.
 */
function placeAcross(anchor: Box, frame: Pick<Box, 'left' | 'right'> | undefined, width: number, viewportWidth: number): number {
  const fits = (left: number) => left >= MARGIN && left + width <= viewportWidth - MARGIN;
  const clamp = (left: number) => Math.max(MARGIN, Math.min(left, viewportWidth - MARGIN - width));
  if (frame === undefined) return clamp(anchor.right - width);
  const rightAligned = frame.right - width;
  if (rightAligned >= frame.left && fits(rightAligned)) return rightAligned;
  if (fits(frame.left)) return frame.left;
  if (fits(rightAligned)) return rightAligned;
  return clamp(rightAligned);
}

/**
 * Where a menu of `size` goes for a button at `anchor` in a window of `viewport`: below the
 * button, lined up with its tile (`frame`, see `placeAcross`); above it when there is no room
 * below (a tile near the bottom of the screen); always inside the window, `MARGIN` from its
 * edges, scrolling if taller than it. Pure, so it is tested without a layout engine.
 */
export function placeMenu(
  anchor: Box,
  size: { width: number; height: number },
  viewport: { width: number; height: number },
  frame?: Pick<Box, 'left' | 'right'>,
): MenuPlacement {
  const below = viewport.height - MARGIN - (anchor.bottom + GAP);
  const above = anchor.top - GAP - MARGIN;
  const room = viewport.height - 2 * MARGIN;
  let top: number;
  let side: MenuPlacement['side'];
  let maxHeight: number | null = null;
  if (size.height <= below) {
    side = 'below';
    top = anchor.bottom + GAP;
  } else if (size.height <= above) {
    side = 'above';
    top = anchor.top - GAP - size.height;
  } else if (size.height <= room) {
    // Room on neither side: as close to the button as the window allows.
    side = below >= above ? 'below' : 'above';
    top = Math.min(Math.max(MARGIN, side === 'below' ? anchor.bottom + GAP : anchor.top - GAP - size.height), viewport.height - MARGIN - size.height);
  } else {
    side = 'below';
    top = MARGIN;
    maxHeight = room;
  }
  const left = placeAcross(anchor, frame, size.width, viewport.width);
  return { top, left, maxHeight, side };
}

function place(button: HTMLElement, menu: HTMLElement) {
  const root = document.documentElement;
  const viewport = { width: root.clientWidth || window.innerWidth, height: root.clientHeight || window.innerHeight };
  // The tile the button is in: the menu lines up with it.
  const frame = button.closest<HTMLElement>('.tile')?.getBoundingClientRect();
  const { top, left, maxHeight, side } = placeMenu(
    button.getBoundingClientRect(),
    { width: menu.offsetWidth, height: menu.scrollHeight },
    viewport,
    frame,
  );
  // CSSOM, not a style attribute: the CSP allows it.
  menu.style.top = `${Math.round(top)}px`;
  menu.style.left = `${Math.round(left)}px`;
  menu.style.maxHeight = maxHeight === null ? '' : `${Math.floor(maxHeight)}px`;
  menu.dataset.side = side;
}

/** The next element Tab would reach after `element` on the page, leaving out `skip`. */
function nextFocusable(element: HTMLElement, skip: HTMLElement | null): HTMLElement | null {
  const all = focusables(document.body).filter((candidate) => (skip === null || !skip.contains(candidate)) && candidate.getClientRects().length > 0);
  const index = all.indexOf(element);
  return index === -1 ? null : (all[index + 1] ?? null);
}

/** One entry of the menu: a file to download, a page of the app, or an action here. */
export type TileMenuItem =
  | { kind: 'download'; label: string; href: string }
  | { kind: 'route'; label: string; to: string }
  | { kind: 'action'; label: string; onSelect: () => void; danger?: boolean };

interface TileMenuProps {
  /** The button's accessible name: "Actions for a red fox". */
  label: string;
  items: readonly TileMenuItem[];
}

/**
 * A tile's "⋯" menu. The tile clips what overflows it (and `content-visibility` contains even
 * fixed positioning), so the open menu is rendered at the end of `<main>` (a portal) in a fixed
 * position beside its button, flipped above it near the bottom of the window and kept inside the
 * window: "Delete…" is never cut off. Keyboard: Enter/Space toggle it, Tab or ↓ from the button
 * goes into it, ↑/↓/Home/End move through it, Tab past its end goes on to what follows the
 * button, Escape closes it and puts focus back on the button; a click elsewhere closes it.
 */
export function TileMenu({ label, items }: TileMenuProps) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const menuId = useId();

  const close = useCallback((refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  }, []);

  const focusableItems = () => (menu.current === null ? [] : focusables(menu.current));

  useLayoutEffect(() => {
    if (!open) return;
    const update = () => {
      if (button.current !== null && menu.current !== null) place(button.current, menu.current);
    };
    update();
    window.addEventListener('resize', update);
    // Any scroll (the page, a scrolling parent) moves the button: the menu follows it.
    window.addEventListener('scroll', update, true);
    return () => {
      window.removeEventListener('resize', update);
      window.removeEventListener('scroll', update, true);
    };
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target;
      if (target instanceof Node && (menu.current?.contains(target) || button.current?.contains(target))) return;
      setOpen(false);
    };
    document.addEventListener('pointerdown', onPointerDown, true);
    return () => document.removeEventListener('pointerdown', onPointerDown, true);
  }, [open]);

  const focusItem = (which: 'first' | 'last' | 1 | -1) => {
    const list = focusableItems();
    if (list.length === 0) return;
    const current = list.indexOf(document.activeElement as HTMLElement);
    let index: number;
    if (which === 'first') index = 0;
    else if (which === 'last') index = list.length - 1;
    else index = current === -1 ? 0 : (current + which + list.length) % list.length;
    list[index]?.focus();
  };

  const onButtonKeyDown = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (event.key === 'ArrowDown' || (event.key === 'Tab' && !event.shiftKey && open)) {
      event.preventDefault();
      if (open) focusItem('first');
      else {
        setOpen(true);
        // Once the menu is on the page.
        requestAnimationFrame(() => focusItem('first'));
      }
    } else if (event.key === 'Escape' && open) {
      event.preventDefault();
      event.stopPropagation();
      close(true);
    }
  };

  const onMenuKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const list = focusableItems();
    const active = document.activeElement;
    switch (event.key) {
      case 'Escape':
        event.preventDefault();
        event.stopPropagation();
        close(true);
        return;
      case 'ArrowDown':
      case 'ArrowUp':
        event.preventDefault();
        focusItem(event.key === 'ArrowDown' ? 1 : -1);
        return;
      case 'Home':
      case 'End':
        event.preventDefault();
        focusItem(event.key === 'Home' ? 'first' : 'last');
        return;
      case 'Tab':
        if (event.shiftKey && active === list[0]) {
          event.preventDefault();
          button.current?.focus();
        } else if (!event.shiftKey && active === list.at(-1)) {
          // On past the menu, as if it sat right after its button.
          event.preventDefault();
          const next = button.current === null ? null : nextFocusable(button.current, menu.current);
          setOpen(false);
          (next ?? button.current)?.focus();
        }
        return;
      default:
    }
  };

  return (
    <>
      <button
        ref={button}
        type="button"
        className="tile-menu-button"
        aria-label={label}
        aria-haspopup="true"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => setOpen((value) => !value)}
        onKeyDown={onButtonKeyDown}
      >
        ⋯
      </button>
      {open &&
        createPortal(
          <div
            ref={menu}
            id={menuId}
            className="tile-menu-items"
            role="group"
            aria-label={label}
            onKeyDown={onMenuKeyDown}
            onBlur={(event) => {
              // Focus moving somewhere else on the page closes it (a click on nothing leaves
              // focus nowhere: the pointer handler deals with that).
              const next = event.relatedTarget;
              if (next instanceof Node && !event.currentTarget.contains(next) && next !== button.current) setOpen(false);
            }}
          >
            {items.map((item) => {
              switch (item.kind) {
                case 'download':
                  return (
                    // Closed after the click has run its course: a link taken off the page
                    // during its own click would not download.
                    <a key={item.label} href={item.href} download onClick={() => setTimeout(() => close(true), 0)}>
                      {item.label}
                    </a>
                  );
                case 'route':
                  return (
                    <Link key={item.label} to={item.to}>
                      {item.label}
                    </Link>
                  );
                default:
                  return (
                    <button
                      key={item.label}
                      type="button"
                      className={item.danger === true ? 'danger' : undefined}
                      onClick={() => {
                        // Focus goes back to the menu's button first, so a dialog it opens
                        // returns it there when it closes.
                        close(true);
                        item.onSelect();
                      }}
                    >
                      {item.label}
                    </button>
                  );
              }
            })}
          </div>,
          // Inside the page's <main> (a landmark, like everything else on the page) when there
          // is one; fixed positioning works the same there.
          document.getElementById('main') ?? document.body,
        )}
    </>
  );
}
