// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Asset } from '../../api/types';
import { renderWithProviders } from '../../test/harness';
import { AssetTile } from './AssetTile';
import { placeMenu } from './TileMenu';

afterEach(cleanup);

function asset(id: string, extra: Partial<Asset> = {}): Asset {
  return {
    id,
    jobId: `job-${id}`,
    endpointId: 'fal-ai/veo3',
    model: 'Veo 3',
    prompt: `a red fox ${id}`,
    resultKind: 'image',
    storageMode: 'local',
    url: `/files/${id}`,
    downloadUrl: `/files/${id}?download=1`,
    contentType: 'image/png',
    byteSize: 1000,
    fileName: `${id}.png`,
    params: {},
    createdAt: '2026-11-25T10:00:00Z',
    starred: false,
    ...extra,
  };
}

function renderTiles(assets: Asset[], handlers: { onShare?: (a: Asset) => void; onDelete?: (a: Asset) => void } = {}, selecting = false) {
  const props = {
    selecting,
    selected: false,
    onOpen: vi.fn(),
    onSelect: vi.fn(),
    onShare: handlers.onShare ?? vi.fn(),
    onDelete: handlers.onDelete ?? vi.fn(),
    onStar: vi.fn(),
  };
  renderWithProviders(
    <ul aria-label="Assets">
      {assets.map((a) => (
        <AssetTile key={a.id} asset={a} {...props} />
      ))}
    </ul>,
  );
  return props;
}

const tileOf = (id: string) => document.querySelector<HTMLElement>(`li[data-asset-id="${id}"]`)!;

describe('AssetTile', () => {
  it("shows the server's thumbnail (a video's poster) instead of the full file once there is one", () => {
    renderTiles([
      asset('i', { thumbnailUrl: '/files/i/thumbnail' }),
      asset('n'),
      asset('v', { resultKind: 'video', contentType: 'video/mp4', thumbnailUrl: '/files/v/thumbnail' }),
    ]);
    expect(tileOf('i').querySelector('img')?.getAttribute('src')).toBe('/files/i/thumbnail');
    // No thumbnail yet: the file itself, as before.
    expect(tileOf('n').querySelector('img')?.getAttribute('src')).toBe('/files/n');
    const video = tileOf('v');
    expect(video.querySelector('img')?.getAttribute('src')).toBe('/files/v/thumbnail');
    expect(video.querySelector('video')).toBeNull();
    expect(within(video).getByTestId('tile-icon').textContent).toBe('▶');
  });

  it('shows ▶ and the duration on a video tile, and model and prompt for hover and focus', () => {
    renderTiles([
      asset('v', { resultKind: 'video', contentType: 'video/mp4', outputDuration: 8 }),
      asset('i'),
      asset('a', { resultKind: 'audio', contentType: 'audio/mpeg', outputDuration: 65.2, prompt: null, fileName: 'song.mp3' }),
    ]);
    const video = tileOf('v');
    expect(within(video).getByTestId('tile-icon').textContent).toBe('▶');
    expect(within(video).getByTestId('tile-duration').textContent).toBe('▶ 0:08');
    const info = within(video).getByTestId('tile-info');
    expect(info.textContent).toBe('Veo 3a red fox v');
    // Keyboard and screen-reader users get the model and length as the button's description.
    const open = within(video).getByRole('button', { name: 'Open a red fox v' });
    expect(document.getElementById(open.getAttribute('aria-describedby') ?? '')?.textContent).toBe('Veo 3, video 0:08');

    expect(within(tileOf('i')).queryByTestId('tile-duration')).toBeNull();
    expect(within(tileOf('i')).getByTestId('tile-info').textContent).toBe('Veo 3a red fox i');
    expect(within(tileOf('a')).getByTestId('tile-duration').textContent).toBe('♪ 1:05');
    expect(within(tileOf('a')).getByTestId('tile-info').textContent).toBe('Veo 3');
  });

  it('opens its menu outside the tile (nothing clips it), and Delete… closes it and asks', async () => {
    const onDelete = vi.fn();
    renderTiles([asset('i')], { onDelete });
    const user = userEvent.setup();
    const button = screen.getByRole('button', { name: 'Actions for a red fox i' });
    expect(button.getAttribute('aria-expanded')).toBe('false');
    await user.click(button);
    expect(button.getAttribute('aria-expanded')).toBe('true');
    const menu = screen.getByRole('group', { name: 'Actions for a red fox i' });
    expect(button.getAttribute('aria-controls')).toBe(menu.id);
    expect(tileOf('i').contains(menu)).toBe(false);
    expect(menu.parentElement).toBe(document.body);
    expect(within(menu).getAllByRole('link').map((a) => a.textContent)).toEqual(['Download', 'Remix', 'Use as reference']);
    expect(within(menu).getByRole('link', { name: 'Download' }).getAttribute('href')).toBe('/files/i?download=1');

    await user.click(within(menu).getByRole('button', { name: 'Delete…' }));
    expect(onDelete).toHaveBeenCalledWith(expect.objectContaining({ id: 'i' }));
    expect(screen.queryByRole('group', { name: 'Actions for a red fox i' })).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it('works with the keyboard: Tab goes in, arrows move, Escape closes and returns focus, Tab past the end goes on', async () => {
    renderTiles([asset('i'), asset('j', { resultKind: 'video', contentType: 'video/mp4' })]);
    const user = userEvent.setup();
    const button = screen.getByRole('button', { name: 'Actions for a red fox i' });
    button.focus();
    await user.keyboard('{Enter}');
    const menu = screen.getByRole('group', { name: 'Actions for a red fox i' });
    expect(document.activeElement).toBe(button);
    fireEvent.keyDown(button, { key: 'Tab' });
    expect(document.activeElement?.textContent).toBe('Download');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(document.activeElement?.textContent).toBe('Remix');
    fireEvent.keyDown(document.activeElement!, { key: 'End' });
    expect(document.activeElement?.textContent).toBe('Delete…');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(document.activeElement?.textContent).toBe('Download');
    fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    expect(screen.queryByRole('group')).toBeNull();
    expect(document.activeElement).toBe(button);

    // Tab from the last item leaves the menu for what follows the button: the next tile.
    fireEvent.keyDown(button, { key: 'ArrowDown' });
    await screen.findByRole('group', { name: 'Actions for a red fox i' });
    await vi.waitFor(() => expect(document.activeElement?.textContent).toBe('Download'));
    expect(menu.isConnected).toBe(false);
    fireEvent.keyDown(document.activeElement!, { key: 'End' });
    fireEvent.keyDown(document.activeElement!, { key: 'Tab' });
    expect(screen.queryByRole('group')).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Open a red fox j' }));
  });

  it('has a star toggle named for what it does and to what, which neither opens nor selects', async () => {
    const props = renderTiles([asset('i'), asset('s', { starred: true })]);
    const user = userEvent.setup();
    const star = within(tileOf('i')).getByRole('button', { name: 'Star a red fox i' });
    expect(star.getAttribute('aria-pressed')).toBe('false');
    expect(star.textContent).toBe('☆');
    expect(tileOf('i').dataset.starred).toBeUndefined();
    await user.click(star);
    expect(props.onStar).toHaveBeenCalledWith(expect.objectContaining({ id: 'i' }), true);
    expect(props.onOpen).not.toHaveBeenCalled();

    // Starred: filled, pressed, "Unstar", always shown (the CSS keys on the pressed state), and
    // said in the open button's description.
    const starred = within(tileOf('s')).getByRole('button', { name: 'Unstar a red fox s' });
    expect(starred.getAttribute('aria-pressed')).toBe('true');
    expect(starred.textContent).toBe('★');
    expect(tileOf('s').dataset.starred).toBe('true');
    const open = within(tileOf('s')).getByRole('button', { name: 'Open a red fox s' });
    expect(document.getElementById(open.getAttribute('aria-describedby') ?? '')?.textContent).toBe('Veo 3, starred');
    await user.click(starred);
    expect(props.onStar).toHaveBeenLastCalledWith(expect.objectContaining({ id: 's' }), false);

    // Tab order: open, star, then the menu.
    const menu = within(tileOf('i')).getByRole('button', { name: 'Actions for a red fox i' });
    expect(star.compareDocumentPosition(menu) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(within(tileOf('i')).getByRole('button', { name: 'Open a red fox i' }).compareDocumentPosition(star) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it('keeps the star in select mode, where pressing it does not select the tile', async () => {
    const props = renderTiles([asset('i', { starred: true })], {}, true);
    const user = userEvent.setup();
    await user.click(within(tileOf('i')).getByRole('button', { name: 'Unstar a red fox i' }));
    expect(props.onStar).toHaveBeenCalledWith(expect.objectContaining({ id: 'i' }), false);
    expect(props.onSelect).not.toHaveBeenCalled();
    expect(within(tileOf('i')).queryByRole('button', { name: /^Actions for/ })).toBeNull();
  });

  it('closes on a click elsewhere', async () => {
    renderTiles([asset('i'), asset('j')]);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Actions for a red fox i' }));
    expect(screen.getByRole('group')).toBeTruthy();
    await user.click(document.body);
    expect(screen.queryByRole('group')).toBeNull();
  });
});

describe('placeMenu', () => {
  const menu = { width: 176, height: 220 };
  const desktop = { width: 1280, height: 800 };
  const phone = { width: 390, height: 844 };
  const button = (top: number, right: number) => ({ top, bottom: top + 28, left: right - 30, right });

  it('opens below its button, right edges aligned, when there is room', () => {
    expect(placeMenu(button(100, 400), menu, desktop)).toEqual({ top: 132, left: 224, maxHeight: null, side: 'below' });
  });

  it('flips above a button near the bottom of the window', () => {
    const placed = placeMenu(button(700, 400), menu, desktop);
    expect(placed.side).toBe('above');
    expect(placed.top + menu.height).toBeLessThanOrEqual(700);
  });

  it('stays inside a phone’s window on both sides', () => {
    const left = placeMenu(button(780, 40), menu, phone);
    expect(left.left).toBe(8);
    expect(left.top + menu.height).toBeLessThanOrEqual(phone.height - 8);
    const right = placeMenu(button(10, 500), menu, phone);
    expect(right.left + menu.width).toBeLessThanOrEqual(phone.width - 8);
  });

  it('lines up with its own tile: inside it when it fits, else from its left edge, never off to the window’s edge', () => {
    const tile = (left: number, width: number) => ({ left, right: left + width });
    // Narrower than its tile: right edges together, under the "⋯".
    expect(placeMenu(button(100, 214), menu, desktop, tile(24, 195)).left).toBe(219 - 176);
    // Wider than its tile, first column: from the tile's left edge, not the window's (8).
    const wide = { width: 207, height: 220 };
    expect(placeMenu(button(100, 214), wide, desktop, tile(24, 195)).left).toBe(24);
    expect(placeMenu(button(100, 186), wide, phone, tile(12, 179)).left).toBe(12);
    // Last column of a phone: no room past its left edge's line, so right edges together.
    expect(placeMenu(button(100, 373), wide, phone, tile(199, 179)).left).toBe(378 - 207);
    // Room on neither side of the tile: pushed inside the window.
    const pushed = placeMenu(button(100, 245), { width: 300, height: 220 }, phone, tile(150, 100));
    expect([pushed.left, pushed.left + 300 <= phone.width - 8]).toEqual([8, true]);
  });

  it('sits as close as it can when neither side has room, and scrolls when taller than the window', () => {
    const short = { width: 390, height: 300 };
    const middle = placeMenu(button(130, 200), menu, short);
    expect(middle.top).toBeGreaterThanOrEqual(8);
    expect(middle.top + menu.height).toBeLessThanOrEqual(short.height - 8);
    expect(placeMenu(button(100, 200), { width: 176, height: 900 }, phone)).toEqual({ top: 8, left: 24, maxHeight: 828, side: 'below' });
  });
});
