// @vitest-environment happy-dom
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useLocation } from 'react-router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Asset, AssetDetail, Share } from '../../api/types';
import { json, renderWithProviders, stubServer, type Call } from '../../test/harness';
import { focusables } from '../../components/Modal';
import { GalleryPage } from './GalleryPage';

function asset(id: string, prompt: string, extra: Partial<Asset> = {}): Asset {
  return {
    id,
    jobId: `job-${id}`,
    endpointId: 'fal-ai/flux/dev',
    model: 'FLUX.1 [dev]',
    prompt,
    resultKind: 'image',
    storageMode: 'local',
    url: `/files/${id}`,
    downloadUrl: `/files/${id}?download=1`,
    contentType: 'image/png',
    byteSize: 204_800,
    width: 1024,
    height: 768,
    outputDuration: null,
    inferenceTime: 1.25,
    seed: 42,
    fileName: `${id}.png`,
    params: { prompt, num_inference_steps: 28 },
    createdAt: '2026-11-25T10:00:00Z',
    starred: false,
    ...extra,
  };
}

const fox = asset('a1', 'a red fox');
const whale = asset('a2', 'a blue whale');
const owl = asset('a3', 'an owl');

const detail = (of: Asset): AssetDetail => ({
  ...of,
  job: { id: of.jobId ?? 'job', status: 'completed', groupId: 'g', createdAt: of.createdAt, finishedAt: of.createdAt },
  references: [{ id: 'r1', field: 'image_url', bucket: 'generalReferences', url: '/files/references/r1', contentType: 'image/png', byteSize: 2048, fileName: 'ref.png' }],
});

function Where() {
  const location = useLocation();
  return <output data-testid="location">{`${location.pathname}${location.search}`}</output>;
}
const where = () => screen.getByTestId('location').textContent ?? '';

function render(path = '/gallery') {
  return renderWithProviders(
    <>
      <GalleryPage />
      <Where />
    </>,
    path,
  );
}

type Override = Response | ((call: Call) => Response | Promise<Response>);

/** The fake server's star answers wait for this: `holdStars()` shows what the screen does before. */
let starGate: Promise<void> = Promise.resolve();
/** Holds the star answers back; call what it returns to let them go. */
function holdStars(): () => void {
  let open = () => {};
  starGate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => open();
}

function server(assets: Asset[] = [fox, whale, owl], overrides: Record<string, Override> = {}) {
  let list = [...assets];
  let shares: Share[] = [];
  const current = (of: Asset) => list.find((a) => a.id === of.id) ?? of;
  const setStar = (ids: readonly string[], starred: boolean) => {
    const changed = list.filter((a) => ids.includes(a.id) && a.starred !== starred).length;
    list = list.map((a) => (ids.includes(a.id) ? { ...a, starred } : a));
    return changed;
  };
  const stub = stubServer({
    'GET /api/assets': (call) => {
      const search = new URLSearchParams(call.search ?? '');
      const q = search.get('q') ?? '';
      const starredOnly = search.get('starred') === 'true';
      return json(200, { assets: list.filter((a) => (a.prompt ?? '').includes(q) && (!starredOnly || a.starred)), nextCursor: null });
    },
    'GET /api/assets/models': json(200, { models: [{ endpointId: 'fal-ai/flux/dev', model: 'FLUX.1 [dev]', count: list.length }] }),
    ...Object.fromEntries(
      assets.flatMap((a) => [
        [`GET /api/assets/${a.id}`, () => json(200, { asset: detail(current(a)) })],
        [
          `PUT /api/assets/${a.id}/star`,
          async () => {
            await starGate;
            setStar([a.id], true);
            return json(200, { asset: current(a) });
          },
        ],
        [
          `DELETE /api/assets/${a.id}/star`,
          async () => {
            await starGate;
            setStar([a.id], false);
            return json(200, { asset: current(a) });
          },
        ],
        [
          `DELETE /api/assets/${a.id}`,
          () => {
            list = list.filter((other) => other.id !== a.id);
            return new Response(null, { status: 204 });
          },
        ],
        [`GET /api/assets/${a.id}/shares`, () => json(200, { shares: shares.filter((s) => s.assetId === a.id) })],
        [
          `POST /api/assets/${a.id}/shares`,
          (call: Call) => {
            const body = call.body as { allowDownload: boolean; showPrompt: boolean; expiresInSeconds?: number };
            const share: Share = {
              token: `tok${shares.length + 1}`,
              url: `https://studio.example/s/tok${shares.length + 1}`,
              assetId: a.id,
              createdAt: '2026-11-25T11:00:00Z',
              expiresAt: body.expiresInSeconds === undefined ? null : '2026-11-26T11:00:00Z',
              allowDownload: body.allowDownload,
              showPrompt: body.showPrompt,
              hasPassword: false,
              asset: { id: a.id, resultKind: a.resultKind, model: a.model, url: a.url },
            };
            shares = [...shares, share];
            return json(201, { share });
          },
        ],
      ]),
    ),
    'DELETE /api/shares/tok1': () => {
      shares = shares.filter((s) => s.token !== 'tok1');
      return new Response(null, { status: 204 });
    },
    'POST /api/assets/star': async (call) => {
      await starGate;
      const { ids, starred } = call.body as { ids: string[]; starred: boolean };
      return json(200, { changed: setStar(ids, starred) });
    },
    'POST /api/assets/delete': (call) => {
      const { ids } = call.body as { ids: string[] };
      list = list.filter((a) => !ids.includes(a.id));
      return json(200, { deleted: ids.length });
    },
    ...overrides,
  });
  return stub;
}

const grid = () => screen.getByRole('list', { name: 'Assets' });
const tiles = () => within(grid()).getAllByRole('listitem');
const listCalls = (calls: Call[]) => calls.filter((call) => call.key === 'GET /api/assets');

beforeEach(() => {
  HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
    this.setAttribute('open', '');
  };
});

afterEach(() => {
  starGate = Promise.resolve();
  cleanup();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('GalleryPage', () => {
  it('lists the assets and keeps the filters in the URL', async () => {
    const { calls } = server();
    const user = userEvent.setup();
    render('/gallery?kind=image&from=2026-11-01');
    await waitFor(() => expect(tiles()).toHaveLength(3));
    const first = calls.find((call) => call.key === 'GET /api/assets');
    expect(first?.search).toBe('?kind=image&from=2026-11-01&limit=60');
    expect(screen.getByLabelText('Kind')).toHaveProperty('value', 'image');
    expect(screen.getByLabelText('From')).toHaveProperty('value', '2026-11-01');
    expect(grid().querySelector('img')?.getAttribute('loading')).toBe('lazy');

    await user.type(screen.getByRole('searchbox', { name: 'Search' }), 'whale');
    await waitFor(() => expect(where()).toBe('/gallery?q=whale&kind=image&from=2026-11-01'), { timeout: 2000 });
    await waitFor(() => expect(tiles()).toHaveLength(1));
    expect(calls.filter((call) => call.key === 'GET /api/assets').at(-1)?.search).toContain('q=whale');

    await user.selectOptions(screen.getByLabelText('Kind'), '');
    await waitFor(() => expect(where()).toBe('/gallery?q=whale&from=2026-11-01'));
  });

  it('says when there is nothing yet, and when nothing matches', async () => {
    server([]);
    const first = render();
    expect(await screen.findByTestId('gallery-empty')).toHaveProperty('textContent', 'No images yet — generate something in the Studio.');
    first.unmount();
    server([]);
    render('/gallery?q=zebra');
    await screen.findByTestId('gallery-no-results');
  });

  it('opens the viewer with the metadata, moves with the arrow keys, and closes on Escape back to the tile', async () => {
    server();
    const user = userEvent.setup();
    render();
    await waitFor(() => expect(tiles()).toHaveLength(3));
    const tile = within(tiles()[0]!).getByRole('button', { name: 'Open a red fox' });
    await user.click(tile);
    const dialog = await screen.findByRole('dialog', { name: 'a red fox' });
    expect(where()).toBe('/gallery?view=a1');
    const metadata = await within(dialog).findByTestId('asset-metadata');
    await waitFor(() => expect(within(metadata).getByText('job-a1')).toBeTruthy());
    expect(metadata.textContent).toContain('1024 × 768');
    expect(metadata.textContent).toContain('Num inference steps');
    expect(within(metadata).getByRole('img', { name: 'Reference ref.png' }).getAttribute('src')).toBe('/files/references/r1');
    expect(within(dialog).getByRole('link', { name: 'Download' }).getAttribute('href')).toBe('/files/a1?download=1');
    expect(within(dialog).getByRole('link', { name: 'Remix' }).getAttribute('href')).toBe('/studio?remix=a1');
    expect(within(dialog).getByRole('link', { name: 'Use as reference' }).getAttribute('href')).toBe('/studio?reference=a1');

    fireEvent.keyDown(dialog, { key: 'ArrowRight' });
    await screen.findByRole('dialog', { name: 'a blue whale' });
    expect(where()).toBe('/gallery?view=a2');
    fireEvent.keyDown(screen.getByRole('dialog'), { key: 'ArrowLeft' });
    await screen.findByRole('dialog', { name: 'a red fox' });
    // Nothing before the first one.
    fireEvent.keyDown(screen.getByRole('dialog'), { key: 'ArrowLeft' });
    expect(where()).toBe('/gallery?view=a1');

    fireEvent.keyDown(screen.getByRole('dialog'), { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(where()).toBe('/gallery');
    expect(document.activeElement).toBe(tile);
  });

  it('tells the CSS how tall the viewer’s header is, so the picture fits the window under it', async () => {
    server();
    render('/gallery?view=a1');
    const dialog = await screen.findByRole('dialog', { name: 'a red fox' });
    const body = dialog.querySelector('.modal-body') as HTMLElement;
    expect(body.querySelector(':scope > header.viewer-head')).toBeTruthy();
    // happy-dom lays nothing out: the height is 0 there, the browser tests see the real one.
    await waitFor(() => expect(body.style.getPropertyValue('--viewer-head')).toMatch(/^\d+px$/));
    expect(within(dialog).getByRole('img', { name: 'a red fox' }).className).toBe('viewer-media');
  });

  it('keeps Tab inside the viewer', async () => {
    server();
    render('/gallery?view=a2');
    const dialog = await screen.findByRole('dialog', { name: 'a blue whale' });
    await within(dialog).findByRole('img', { name: 'Reference ref.png' });
    const last = focusables(dialog).at(-1)!;
    expect(last.getAttribute('href')).toBe('/files/references/r1');
    last.focus();
    fireEvent.keyDown(last, { key: 'Tab' });
    expect(dialog.contains(document.activeElement)).toBe(true);
    expect(document.activeElement).not.toBe(last);
    const first = within(dialog).getByRole('button', { name: '← Previous' });
    first.focus();
    fireEvent.keyDown(first, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(last);
  });

  it('deletes an asset only after confirming, and takes it off the grid', async () => {
    const { calls } = server();
    const user = userEvent.setup();
    render();
    await waitFor(() => expect(tiles()).toHaveLength(3));
    const tile = tiles()[1]!;
    await user.click(within(tile).getByLabelText('Actions for a blue whale'));
    // The open menu sits at the end of the page (a portal), not inside the tile, which clips.
    await user.click(screen.getByRole('button', { name: 'Delete…' }));
    const confirm = await screen.findByRole('dialog', { name: 'Delete this item?' });
    await user.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(calls.some((call) => call.key.startsWith('DELETE'))).toBe(false);
    expect(tiles()).toHaveLength(3);

    await user.click(within(tile).getByLabelText('Actions for a blue whale'));
    // The open menu sits at the end of the page (a portal), not inside the tile, which clips.
    await user.click(screen.getByRole('button', { name: 'Delete…' }));
    await user.click(within(await screen.findByRole('dialog', { name: 'Delete this item?' })).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(tiles()).toHaveLength(2));
    expect(calls.some((call) => call.key === 'DELETE /api/assets/a2')).toBe(true);
    expect(screen.queryByRole('button', { name: 'Open a blue whale' })).toBeNull();
  });

  it('takes deleted files out of the studio’s cached jobs and asks for fresh job views', async () => {
    server();
    const user = userEvent.setup();
    const { queryClient } = render();
    await waitFor(() => expect(tiles()).toHaveLength(3));
    // What the studio's stage and queue hold: the recent jobs and one job, with their files.
    const job = (id: string, assets: Asset[]) => ({ id, status: 'completed', groupId: 'g', assets, outputCount: assets.length });
    queryClient.setQueryData(['jobs', 'list'], [job('j1', [fox, whale]), job('j2', [owl])]);
    queryClient.setQueryData(['jobs', 'one', 'j1'], job('j1', [fox, whale]));
    const ids = (data: unknown) => (data as { assets: Asset[] }).assets.map((a) => a.id);

    // One asset, from its menu.
    await user.click(within(tiles()[1]!).getByLabelText('Actions for a blue whale'));
    await user.click(screen.getByRole('button', { name: 'Delete…' }));
    await user.click(within(await screen.findByRole('dialog', { name: 'Delete this item?' })).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(tiles()).toHaveLength(2));
    expect((queryClient.getQueryData(['jobs', 'list']) as unknown[]).map(ids)).toEqual([['a1'], ['a3']]);
    expect(ids(queryClient.getQueryData(['jobs', 'one', 'j1']))).toEqual(['a1']);
    expect(queryClient.getQueryState(['jobs', 'list'])?.isInvalidated).toBe(true);
    expect(queryClient.getQueryState(['jobs', 'one', 'j1'])?.isInvalidated).toBe(true);

    // The selection, as a batch.
    queryClient.setQueryData(['jobs', 'list'], [job('j1', [fox]), job('j2', [owl])]);
    expect(queryClient.getQueryState(['jobs', 'list'])?.isInvalidated).toBe(false);
    await user.click(screen.getByRole('button', { name: 'Select' }));
    await user.click(screen.getByRole('button', { name: 'Select all loaded' }));
    await user.click(screen.getByRole('button', { name: 'Delete selected' }));
    await user.click(within(await screen.findByRole('dialog', { name: 'Delete 2 items?' })).getByRole('button', { name: 'Delete' }));
    await screen.findByText('Deleted 2 items.');
    expect((queryClient.getQueryData(['jobs', 'list']) as unknown[]).map(ids)).toEqual([[], []]);
    expect(queryClient.getQueryState(['jobs', 'list'])?.isInvalidated).toBe(true);
  });

  it('creates a share link, copies it, and revokes it', async () => {
    const { calls } = server();
    const writeText = vi.fn(async () => {});
    const user = userEvent.setup();
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    render('/gallery?view=a1');
    const viewer = await screen.findByRole('dialog', { name: 'a red fox' });
    await user.click(within(viewer).getByRole('button', { name: 'Share…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Share image' });
    expect(within(dialog).getByLabelText('Allow download')).toHaveProperty('checked', true);
    expect(within(dialog).getByLabelText('Show prompt & parameters')).toHaveProperty('checked', true);
    await within(dialog).findByText('No active links.');
    await user.selectOptions(within(dialog).getByLabelText('Link expires'), 'After 1 day');
    await user.click(within(dialog).getByLabelText('Show prompt & parameters'));
    await user.click(within(dialog).getByRole('button', { name: 'Create link' }));

    const link = await within(dialog).findByTestId('share-link');
    expect(link).toHaveProperty('value', 'https://studio.example/s/tok1');
    expect(calls.find((call) => call.key === 'POST /api/assets/a1/shares')?.body).toEqual({
      allowDownload: true,
      showPrompt: false,
      expiresInSeconds: 86_400,
    });
    await user.click(within(dialog).getByRole('button', { name: 'Copy' }));
    expect(writeText).toHaveBeenCalledWith('https://studio.example/s/tok1');
    await within(dialog).findByText('Copied to the clipboard.');

    const active = await within(dialog).findByRole('list', { name: 'Active links' });
    expect(within(active).getByText(/prompt hidden/)).toBeTruthy();
    await user.click(within(active).getByRole('button', { name: 'Revoke https://studio.example/s/tok1' }));
    await within(dialog).findByText('No active links.');
    expect(calls.some((call) => call.key === 'DELETE /api/shares/tok1')).toBe(true);

    // Escape closes only the share dialog; the viewer stays.
    fireEvent.keyDown(dialog, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Share image' })).toBeNull());
    expect(screen.getByRole('dialog', { name: 'a red fox' })).toBeTruthy();
  });

  it('selects tiles (shift-click ranges), links the zip of the selection, and deletes the selection', async () => {
    const { calls } = server();
    const user = userEvent.setup();
    render();
    await waitFor(() => expect(tiles()).toHaveLength(3));
    await user.click(screen.getByRole('button', { name: 'Select' }));
    await user.click(screen.getByRole('button', { name: 'Select a red fox' }));
    await user.keyboard('{Shift>}');
    await user.click(screen.getByRole('button', { name: 'Select an owl' }));
    await user.keyboard('{/Shift}');
    expect(screen.getByTestId('selected-count').textContent).toBe('3 selected');
    await user.click(screen.getByRole('button', { name: 'Select a blue whale' }));
    expect(screen.getByTestId('selected-count').textContent).toBe('2 selected');
    expect(screen.getByRole('link', { name: 'Download selected' }).getAttribute('href')).toBe('/api/assets/download?ids=a1,a3');

    await user.click(screen.getByRole('button', { name: 'Select all loaded' }));
    expect(screen.getByTestId('selected-count').textContent).toBe('3 selected');
    await user.click(screen.getByRole('button', { name: 'Delete selected' }));
    await user.click(within(await screen.findByRole('dialog', { name: 'Delete 3 items?' })).getByRole('button', { name: 'Delete' }));
    await screen.findByText('Deleted 3 items.');
    expect(calls.find((call) => call.key === 'POST /api/assets/delete')?.body).toEqual({ ids: ['a1', 'a2', 'a3'] });
    expect(screen.queryByRole('list', { name: 'Assets' })).toBeNull();
  });

  it('loads the next page with "Load more"', async () => {
    const pages: Record<string, Response> = {
      'GET /api/assets?limit=60': json(200, { assets: [fox], nextCursor: 'c1' }),
      'GET /api/assets?cursor=c1&limit=60': json(200, { assets: [whale], nextCursor: null }),
    };
    server([fox, whale], pages);
    const user = userEvent.setup();
    render();
    await waitFor(() => expect(tiles()).toHaveLength(1));
    await user.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(tiles()).toHaveLength(2));
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });

  it('lists every shared link under the Shared links tab', async () => {
    const share: Share = {
      token: 'tok1',
      url: 'https://studio.example/s/tok1',
      assetId: 'a1',
      createdAt: '2026-11-25T11:00:00Z',
      expiresAt: null,
      allowDownload: true,
      showPrompt: true,
      hasPassword: false,
      asset: { id: 'a1', resultKind: 'image', model: 'FLUX.1 [dev]', url: '/files/a1' },
    };
    let shares = [share];
    server([fox], {
      'GET /api/shares': () => json(200, { shares }),
      'DELETE /api/shares/tok1': () => {
        shares = [];
        return new Response(null, { status: 204 });
      },
    });
    const user = userEvent.setup();
    render();
    await user.click(await screen.findByRole('button', { name: 'Shared links' }));
    expect(where()).toBe('/gallery?tab=shares');
    const list = await screen.findByRole('list', { name: 'Shared links' });
    await user.click(within(list).getByRole('button', { name: /^Revoke/ }));
    await screen.findByText('You have not shared anything yet.');
    await act(async () => {});
  });

  it('folds the filters behind one "Filters" button on a phone', async () => {
    vi.spyOn(window, 'matchMedia').mockImplementation(
      (query: string) =>
        ({ matches: query === '(max-width: 640px)', media: query, addEventListener: () => {}, removeEventListener: () => {} }) as unknown as MediaQueryList,
    );
    server();
    const user = userEvent.setup();
    render('/gallery?kind=video');
    await waitFor(() => expect(screen.getByRole('searchbox', { name: 'Search' })).toBeTruthy());
    expect(screen.queryByLabelText('Kind')).toBeNull();
    const toggle = screen.getByRole('button', { name: 'Filters (1)' });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    await user.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    const kind = screen.getByLabelText('Kind');
    expect(document.getElementById(toggle.getAttribute('aria-controls') ?? '')?.contains(kind)).toBe(true);
    expect(within(kind).getAllByRole('option').map((o) => o.textContent)).toEqual(['All', 'Images', 'Videos', 'Audio']);
    expect(kind).toHaveProperty('value', 'video');
    expect(screen.getByLabelText('Model')).toBeTruthy();
    await user.click(toggle);
    expect(screen.queryByLabelText('Kind')).toBeNull();
    vi.restoreAllMocks();
  });

  it('shows every filter at once on a wide screen, kinds in words', async () => {
    server();
    render();
    await waitFor(() => expect(tiles()).toHaveLength(3));
    expect(screen.queryByRole('button', { name: /^Filters/ })).toBeNull();
    expect(within(screen.getByLabelText('Kind')).getAllByRole('option').map((o) => o.textContent)).toEqual(['All', 'Images', 'Videos', 'Audio']);
  });

  it('clears the password after making a link, and a revoked link leaves the field', async () => {
    const { calls } = server();
    const user = userEvent.setup();
    render('/gallery?view=a1');
    const viewer = await screen.findByRole('dialog', { name: 'a red fox' });
    await user.click(within(viewer).getByRole('button', { name: 'Share…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Share image' });
    const password = within(dialog).getByLabelText('Password (optional)');
    await user.type(password, 'open sesame');
    await user.click(within(dialog).getByRole('button', { name: 'Create link' }));
    expect(await within(dialog).findByTestId('share-link')).toHaveProperty('value', 'https://studio.example/s/tok1');
    expect(calls.find((call) => call.key === 'POST /api/assets/a1/shares')?.body).toMatchObject({ password: 'open sesame' });
    expect(password).toHaveProperty('value', '');

    const active = await within(dialog).findByRole('list', { name: 'Active links' });
    await user.click(within(active).getByRole('button', { name: 'Revoke https://studio.example/s/tok1' }));
    await within(dialog).findByText('No active links.');
    expect(within(dialog).queryByTestId('share-link')).toBeNull();
    expect(within(dialog).queryByDisplayValue('https://studio.example/s/tok1')).toBeNull();
    expect(within(dialog).getByTestId('share-revoked').textContent).toBe('The link you made was revoked: it no longer opens.');
  });

  it('writes the details in words: enum labels, job status, durations and reference buckets', async () => {
    const clip = asset('a9', 'a fox running', {
      resultKind: 'video',
      contentType: 'video/mp4',
      outputDuration: 8,
      inferenceTime: 1,
      params: { prompt: 'a fox running', aspect_ratio: 'landscape_16_9', output_format: 'mp4', negative_prompt: 'blurry_frames', resolution: '1080p' },
    });
    server([clip]);
    render('/gallery?view=a9');
    const dialog = await screen.findByRole('dialog', { name: 'a fox running' });
    const metadata = await within(dialog).findByTestId('asset-metadata');
    await waitFor(() => expect(metadata.textContent).toContain('job-a9 · Completed'));
    const rows = [...metadata.querySelectorAll('.meta-row')].map((row) => [row.querySelector('dt')?.textContent, row.querySelector('dd')?.textContent]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ['Duration', '8 seconds'],
        ['Inference time', '1 second'],
        ['Aspect ratio', 'Landscape 16:9'],
        ['Output format', 'MP4'],
        ['Negative prompt', 'blurry_frames'],
        ['Resolution', '1080p'],
      ]),
    );
    expect(within(metadata).getByRole('img', { name: 'Reference ref.png' }).closest('a')?.getAttribute('title')).toBe('References: ref.png');
  });
});

describe('Stars in the gallery', () => {
  const starredAll = [fox, whale, owl].map((a) => ({ ...a, starred: true }));
  const starOf = (tile: HTMLElement) => within(tile).getByTestId('tile-star');

  it('stars a tile at once, keeps focus on it, opens nothing, and refreshes the lists once saved', async () => {
    const { calls } = server();
    const user = userEvent.setup();
    const { queryClient } = render();
    await waitFor(() => expect(tiles()).toHaveLength(3));
    // The studio's cached jobs carry the same files: their stars follow.
    queryClient.setQueryData(['jobs', 'list'], [{ id: 'j1', status: 'completed', groupId: 'g', assets: [fox, whale], outputCount: 2 }]);
    const lists = listCalls(calls).length;
    const star = within(tiles()[0]!).getByRole('button', { name: 'Star a red fox' });
    expect(star.getAttribute('aria-pressed')).toBe('false');

    const open = holdStars();
    await user.click(star);
    // Before the server has answered.
    expect(star.getAttribute('aria-pressed')).toBe('true');
    expect(star.getAttribute('aria-label')).toBe('Unstar a red fox');
    expect(star.textContent).toBe('★');
    expect(document.activeElement).toBe(star);
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(where()).toBe('/gallery');
    const jobs = queryClient.getQueryData<{ assets: Asset[] }[]>(['jobs', 'list']);
    expect(jobs?.[0]?.assets.map((a) => a.starred)).toEqual([true, false]);
    expect(listCalls(calls)).toHaveLength(lists);

    open();
    await waitFor(() => expect(listCalls(calls)).toHaveLength(lists + 1));
    expect(calls.filter((call) => call.key === 'PUT /api/assets/a1/star')).toHaveLength(1);
    expect(within(tiles()[0]!).getByRole('button', { name: 'Unstar a red fox' })).toBe(star);
    expect(document.activeElement).toBe(star);

    await user.click(star);
    await waitFor(() => expect(calls.some((call) => call.key === 'DELETE /api/assets/a1/star')).toBe(true));
    expect(star.getAttribute('aria-pressed')).toBe('false');
    expect(star.getAttribute('aria-label')).toBe('Star a red fox');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('puts the star back and says why when the server refuses', async () => {
    server(undefined, { 'PUT /api/assets/a2/star': json(404, { error: { category: 'not_found', message: 'That asset is gone.' } }) });
    const user = userEvent.setup();
    render();
    await waitFor(() => expect(tiles()).toHaveLength(3));
    const star = within(tiles()[1]!).getByRole('button', { name: 'Star a blue whale' });
    await user.click(star);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('Could not star “a blue whale”: That asset is gone.');
    expect(star.getAttribute('aria-pressed')).toBe('false');
    expect(star.getAttribute('aria-label')).toBe('Star a blue whale');
    // The next press starts afresh.
    await user.click(within(tiles()[0]!).getByRole('button', { name: 'Star a red fox' }));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('stars from the viewer too, in the viewer and on the tile behind it, and says when that fails', async () => {
    const { calls } = server(undefined, { 'DELETE /api/assets/a1/star': json(500, { error: { category: 'internal', message: 'The database is busy.' } }) });
    const user = userEvent.setup();
    render('/gallery?view=a1');
    const dialog = await screen.findByRole('dialog', { name: 'a red fox' });
    await within(dialog).findByTestId('asset-metadata');
    const star = within(dialog).getByRole('button', { name: 'Star' });
    expect(star.getAttribute('aria-pressed')).toBe('false');
    // First among the viewer's actions.
    expect(star.parentElement?.firstElementChild).toBe(star);

    const open = holdStars();
    await user.click(star);
    expect(star.getAttribute('aria-pressed')).toBe('true');
    expect(star.textContent).toBe('★ Unstar');
    expect(document.activeElement).toBe(star);
    expect(starOf(tiles()[0]!).getAttribute('aria-pressed')).toBe('true');
    open();
    await waitFor(() => expect(calls.some((call) => call.key === 'PUT /api/assets/a1/star')).toBe(true));
    expect(where()).toBe('/gallery?view=a1');

    // Unstarring fails: back as it was, and the viewer says so.
    await user.click(within(dialog).getByRole('button', { name: 'Unstar' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert.textContent).toBe('Could not unstar this item: The database is busy.');
    expect(star.getAttribute('aria-pressed')).toBe('true');
    expect(starOf(tiles()[0]!).getAttribute('aria-pressed')).toBe('true');
    expect(document.activeElement).toBe(star);
    // Another asset: the error was about the first one.
    fireEvent.keyDown(dialog, { key: 'ArrowRight' });
    await screen.findByRole('dialog', { name: 'a blue whale' });
    expect(screen.queryByRole('alert')).toBeNull();
    expect(within(screen.getByRole('dialog')).getByRole('button', { name: 'Star' }).getAttribute('aria-pressed')).toBe('false');
  });

  it('filters to starred items with a toggle kept in the URL and sent as starred=true', async () => {
    const { calls } = server([{ ...fox, starred: true }, whale, owl]);
    const user = userEvent.setup();
    render('/gallery?kind=image');
    await waitFor(() => expect(tiles()).toHaveLength(3));
    const toggle = screen.getByRole('button', { name: 'Starred' });
    expect(toggle.getAttribute('aria-pressed')).toBe('false');
    // Inside the filter bar, with the others.
    expect(screen.getByRole('search', { name: 'Filter the gallery' }).contains(toggle)).toBe(true);

    await user.click(toggle);
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    await waitFor(() => expect(where()).toBe('/gallery?kind=image&starred=1'));
    await waitFor(() => expect(tiles()).toHaveLength(1));
    expect(listCalls(calls).at(-1)?.search).toBe('?kind=image&starred=true&limit=60');
    expect(within(tiles()[0]!).getByRole('button', { name: 'Unstar a red fox' })).toBeTruthy();

    await user.click(toggle);
    await waitFor(() => expect(where()).toBe('/gallery?kind=image'));
    await waitFor(() => expect(tiles()).toHaveLength(3));

    // "Clear filters" turns it off with the rest.
    await user.click(toggle);
    await waitFor(() => expect(where()).toBe('/gallery?kind=image&starred=1'));
    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(where()).toBe('/gallery'));
    expect(screen.getByRole('button', { name: 'Starred' }).getAttribute('aria-pressed')).toBe('false');
  });

  it('reads the filter from the URL and says what to do when nothing is starred yet', async () => {
    server();
    const first = render('/gallery?starred=1');
    const empty = await screen.findByTestId('gallery-no-starred');
    expect(empty.textContent).toContain('No starred items yet: star the ones you want to keep.');
    expect(screen.getByRole('button', { name: 'Starred' }).getAttribute('aria-pressed')).toBe('true');
    expect(screen.queryByTestId('gallery-empty')).toBeNull();
    first.unmount();

    // With other filters too, it is a plain "no match", which says the star filter is on.
    server();
    render('/gallery?q=zebra&starred=1');
    const none = await screen.findByTestId('gallery-no-results');
    expect(none.textContent).toContain('turn off Starred');
  });

  it('keeps the toggle in the phone’s folded filters, counted on the button', async () => {
    vi.spyOn(window, 'matchMedia').mockImplementation(
      (query: string) =>
        ({ matches: query === '(max-width: 640px)', media: query, addEventListener: () => {}, removeEventListener: () => {} }) as unknown as MediaQueryList,
    );
    server([{ ...fox, starred: true }, whale]);
    const user = userEvent.setup();
    render('/gallery?starred=1');
    await waitFor(() => expect(tiles()).toHaveLength(1));
    expect(screen.queryByRole('button', { name: 'Starred' })).toBeNull();
    const filters = screen.getByRole('button', { name: 'Filters (1)' });
    await user.click(filters);
    const toggle = screen.getByRole('button', { name: 'Starred' });
    expect(document.getElementById(filters.getAttribute('aria-controls') ?? '')?.contains(toggle)).toBe(true);
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    await user.click(toggle);
    await waitFor(() => expect(where()).toBe('/gallery'));
    await waitFor(() => expect(tiles()).toHaveLength(2));
    expect(screen.getByRole('button', { name: 'Filters' })).toBeTruthy();
    vi.restoreAllMocks();
  });

  it('lets an unstarred item leave the starred list and puts focus on the star now in its place', async () => {
    server(starredAll);
    const user = userEvent.setup();
    render('/gallery?starred=1');
    await waitFor(() => expect(tiles()).toHaveLength(3));
    await user.click(within(tiles()[1]!).getByRole('button', { name: 'Unstar a blue whale' }));
    await waitFor(() => expect(tiles()).toHaveLength(2));
    expect(screen.queryByRole('button', { name: 'Open a blue whale' })).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(within(tiles()[1]!).getByRole('button', { name: 'Unstar an owl' })));

    // The last one: focus goes to the filter, the empty list says so.
    await user.click(within(tiles()[1]!).getByRole('button', { name: 'Unstar an owl' }));
    await user.click(within(tiles()[0]!).getByRole('button', { name: 'Unstar a red fox' }));
    await screen.findByTestId('gallery-no-starred');
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Starred' })));
  });

  it('shows an item starred in the full list when the starred filter comes back on (the lists are refreshed)', async () => {
    server();
    const user = userEvent.setup();
    render('/gallery?starred=1');
    await screen.findByTestId('gallery-no-starred');
    await user.click(screen.getByRole('button', { name: 'Starred' }));
    await waitFor(() => expect(tiles()).toHaveLength(3));
    await user.click(within(tiles()[2]!).getByRole('button', { name: 'Star an owl' }));
    await waitFor(() => expect(within(tiles()[2]!).getByRole('button', { name: 'Unstar an owl' })).toBeTruthy());
    await user.click(screen.getByRole('button', { name: 'Starred' }));
    await waitFor(() => expect(tiles()).toHaveLength(1));
    expect(within(tiles()[0]!).getByRole('button', { name: 'Open an owl' })).toBeTruthy();
  });

  it('keeps the viewer’s neighbours when its item is unstarred out of the starred list, and returns focus next to it', async () => {
    server(starredAll);
    const user = userEvent.setup();
    render('/gallery?starred=1&view=a2');
    const dialog = await screen.findByRole('dialog', { name: 'a blue whale' });
    await within(dialog).findByTestId('asset-metadata');
    await user.click(within(dialog).getByRole('button', { name: 'Unstar' }));
    await waitFor(() => expect(tiles()).toHaveLength(2));
    // Still in the viewer, which can be starred again or left for either neighbour.
    expect(within(dialog).getByRole('button', { name: 'Star' }).getAttribute('aria-pressed')).toBe('false');
    expect(within(dialog).getByRole('button', { name: '← Previous' })).toHaveProperty('disabled', false);
    expect(within(dialog).getByRole('button', { name: 'Next →' })).toHaveProperty('disabled', false);
    fireEvent.keyDown(dialog, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(where()).toBe('/gallery?starred=1');
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Open an owl' }));

    await user.click(screen.getByRole('button', { name: 'Open a red fox' }));
    await screen.findByRole('dialog', { name: 'a red fox' });
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Unstar' }));
    await waitFor(() => expect(tiles()).toHaveLength(1));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Next →' }));
    await screen.findByRole('dialog', { name: 'an owl' });
    expect(where()).toBe('/gallery?starred=1&view=a3');
  });

  it('stars and unstars the selection in one request each, and says how many', async () => {
    const { calls } = server();
    const user = userEvent.setup();
    render();
    await waitFor(() => expect(tiles()).toHaveLength(3));
    await user.click(screen.getByRole('button', { name: 'Select' }));
    const toolbar = screen.getByRole('toolbar', { name: 'Selection' });
    expect(within(toolbar).getByRole('button', { name: 'Star selected' })).toHaveProperty('disabled', true);
    await user.click(screen.getByRole('button', { name: 'Select a red fox' }));
    await user.click(screen.getByRole('button', { name: 'Select an owl' }));
    const lists = listCalls(calls).length;

    const open = holdStars();
    const starButton = within(toolbar).getByRole('button', { name: 'Star selected' });
    await user.click(starButton);
    // At once, before the answer.
    expect(starOf(tiles()[0]!).getAttribute('aria-pressed')).toBe('true');
    expect(starOf(tiles()[1]!).getAttribute('aria-pressed')).toBe('false');
    expect(starOf(tiles()[2]!).getAttribute('aria-pressed')).toBe('true');
    open();
    await screen.findByText('Starred 2 items.');
    expect(calls.filter((call) => call.key === 'POST /api/assets/star').map((call) => call.body)).toEqual([{ ids: ['a1', 'a3'], starred: true }]);
    await waitFor(() => expect(listCalls(calls)).toHaveLength(lists + 1));
    // The selection stays, for the next action; so does focus.
    expect(screen.getByTestId('selected-count').textContent).toBe('2 selected');
    expect(document.activeElement).toBe(starButton);

    await user.click(screen.getByRole('button', { name: 'Select all loaded' }));
    await user.click(within(toolbar).getByRole('button', { name: 'Unstar selected' }));
    await screen.findByText('Unstarred 3 items.');
    expect(calls.filter((call) => call.key === 'POST /api/assets/star').at(-1)?.body).toEqual({ ids: ['a1', 'a2', 'a3'], starred: false });
    await waitFor(() => expect(tiles().map((tile) => starOf(tile).getAttribute('aria-pressed'))).toEqual(['false', 'false', 'false']));
  });

  it('puts the selection’s stars back when the request fails', async () => {
    server([{ ...fox, starred: true }, whale], { 'POST /api/assets/star': json(500, { error: { category: 'internal', message: 'Try again in a moment.' } }) });
    const user = userEvent.setup();
    render();
    await waitFor(() => expect(tiles()).toHaveLength(2));
    await user.click(screen.getByRole('button', { name: 'Select' }));
    await user.click(screen.getByRole('button', { name: 'Select all loaded' }));
    await user.click(screen.getByRole('button', { name: 'Star selected' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Could not star the selected items: Try again in a moment.');
    // Each as it was: the fox stays starred, the whale not.
    expect(tiles().map((tile) => starOf(tile).getAttribute('aria-pressed'))).toEqual(['true', 'false']);
  });
});

describe('GalleryPage with "Group batches"', () => {
  const batch = [
    asset('b1', 'three foxes in the snow at dawn, oil painting', { groupId: 'g1' }),
    asset('b2', 'three foxes in the snow at dawn, oil painting', { groupId: 'g1' }),
    asset('b3', 'three foxes in the snow at dawn, oil painting', { groupId: 'g1' }),
  ];
  const loose = [asset('n1', 'a lone heron', { groupId: null }), asset('n2', 'a second heron', { groupId: null })];
  const stackName = '3 results: three foxes in the snow at dawn, oil painting';

  it('stacks a batch behind the toggle, kept in the URL, and expands it in place with the keyboard', async () => {
    const { calls } = server([...batch, ...loose]);
    const user = userEvent.setup();
    render('/gallery');
    await waitFor(() => expect(tiles()).toHaveLength(5));

    const toggle = screen.getByRole('checkbox', { name: 'Group batches' });
    expect(toggle).toHaveProperty('checked', false);
    await user.click(toggle);
    await waitFor(() => expect(where()).toBe('/gallery?group=1'));
    // Assets without a batch stay apart, even side by side.
    expect(tiles()).toHaveLength(3);
    const stack = screen.getByRole('button', { name: stackName });
    expect(stack.getAttribute('aria-expanded')).toBe('false');
    expect(within(grid()).getByTestId('stack-count').textContent).toBe('3 results');
    // A view setting, not a filter: the list is not asked for again.
    expect(calls.filter((call) => call.key === 'GET /api/assets')).toHaveLength(1);

    stack.focus();
    await user.keyboard('{Enter}');
    const collapse = await screen.findByRole('button', { name: 'Collapse' });
    expect(collapse.getAttribute('aria-expanded')).toBe('true');
    expect(document.activeElement).toBe(collapse);
    const heading = screen.getByRole('heading', { level: 2 });
    expect(heading.textContent).toBe('FLUX.1 [dev] “three foxes in the snow at…” · 3 results');
    expect(within(screen.getByRole('list', { name: heading.textContent ?? '' })).getAllByRole('listitem')).toHaveLength(3);
    await user.click(within(screen.getByRole('list', { name: heading.textContent ?? '' })).getAllByRole('button', { name: /^Open / })[1] as HTMLElement);
    await waitFor(() => expect(where()).toBe('/gallery?group=1&view=b2'));
    await user.keyboard('{Escape}');
    await waitFor(() => expect(where()).toBe('/gallery?group=1'));

    await user.click(screen.getByRole('button', { name: 'Collapse' }));
    expect(document.activeElement).toBe(screen.getByRole('button', { name: stackName }));
    expect(tiles()).toHaveLength(3);

    await user.click(screen.getByRole('checkbox', { name: 'Group batches' }));
    await waitFor(() => expect(where()).toBe('/gallery'));
    expect(tiles()).toHaveLength(5);
  });

  it('reads the toggle from the URL, and a collapsed stack selects its whole batch', async () => {
    server([...loose, ...batch]);
    const user = userEvent.setup();
    render('/gallery?group=1');
    await waitFor(() => expect(tiles()).toHaveLength(3));
    expect(screen.getByRole('checkbox', { name: 'Group batches' })).toHaveProperty('checked', true);

    await user.click(screen.getByRole('button', { name: 'Select' }));
    const stack = screen.getByRole('button', { name: `Select ${stackName}` });
    await user.click(stack);
    expect(screen.getByTestId('selected-count').textContent).toBe('3 selected');
    expect(stack.getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByRole('link', { name: 'Download selected' }).getAttribute('href')).toBe('/api/assets/download?ids=b1,b2,b3');

    // Expanded, single assets can be left out; the stack then shows it is partly chosen.
    await user.click(screen.getByRole('button', { name: `Expand ${stackName}` }));
    await user.click(screen.getAllByRole('button', { name: /^Select three foxes/ })[0] as HTMLElement);
    expect(screen.getByTestId('selected-count').textContent).toBe('2 selected');
    await user.click(screen.getByRole('button', { name: 'Collapse' }));
    expect(screen.getByRole('button', { name: `Select ${stackName}` }).getAttribute('aria-pressed')).toBe('mixed');
  });

  it('shows how many of a collapsed batch are starred, and each star once expanded', async () => {
    const [b1, b2, b3] = batch as [Asset, Asset, Asset];
    server([b1, { ...b2, starred: true }, b3, ...loose]);
    const user = userEvent.setup();
    render('/gallery?group=1');
    await waitFor(() => expect(tiles()).toHaveLength(3));
    const stack = screen.getByRole('button', { name: stackName });
    expect(within(grid()).getByTestId('stack-starred').textContent).toBe('★ 1');
    expect(document.getElementById(stack.getAttribute('aria-describedby') ?? '')?.textContent).toBe('FLUX.1 [dev], one batch, 1 starred');
    await user.click(stack);
    const stars = within(grid()).getAllByTestId('tile-star').slice(0, 3);
    expect(stars.map((star) => star.getAttribute('aria-pressed'))).toEqual(['false', 'true', 'false']);
    await user.click(stars[0]!);
    await waitFor(() => expect(stars[0]!.getAttribute('aria-pressed')).toBe('true'));
    await user.click(screen.getByRole('button', { name: 'Collapse' }));
    expect(within(grid()).getByTestId('stack-starred').textContent).toBe('★ 2');
  });

  it('closes a viewer opened inside a collapsed batch back onto its stack', async () => {
    server([...batch, ...loose]);
    const user = userEvent.setup();
    render('/gallery?group=1&view=b2');
    await screen.findByRole('dialog', { name: 'three foxes in the snow at dawn, oil painting' });
    await user.keyboard('{Escape}');
    await waitFor(() => expect(where()).toBe('/gallery?group=1'));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('button', { name: stackName })));
  });

  it('names a compare batch (several models) for what it is, not after one model', async () => {
    const compare = [
      asset('c1', 'a fox at dusk', { groupId: 'g2', endpointId: 'fal-ai/veo3', model: 'Veo 3' }),
      asset('c2', 'a fox at dusk', { groupId: 'g2', endpointId: 'fal-ai/kling-video', model: 'Kling 2.1' }),
      asset('c3', 'a fox at dusk', { groupId: 'g2', endpointId: 'fal-ai/flux/dev', model: 'FLUX.1 [dev]' }),
      asset('c4', 'a fox at dusk', { groupId: 'g2', endpointId: 'fal-ai/flux/dev', model: 'FLUX.1 [dev]' }),
    ];
    server([...compare, ...batch]);
    const user = userEvent.setup();
    render('/gallery?group=1');
    await waitFor(() => expect(tiles()).toHaveLength(2));

    const stack = screen.getByRole('button', { name: '4 results: a fox at dusk' });
    const description = document.getElementById(stack.getAttribute('aria-describedby') ?? '');
    expect(description?.textContent).toBe('Compare: 3 models (FLUX.1 [dev], Kling 2.1, Veo 3), one batch');
    expect(stack.closest('li')?.querySelector('.tile-model')?.textContent).toBe('Compare: 3 models');
    // A batch of one model is still named after it.
    const single = screen.getByRole('button', { name: stackName });
    expect(document.getElementById(single.getAttribute('aria-describedby') ?? '')?.textContent).toBe('FLUX.1 [dev], one batch');

    await user.click(stack);
    expect(screen.getByRole('heading', { level: 2 }).textContent).toBe('Compare: 3 models “a fox at dusk” · 4 results');
  });

  it('lets a batch split across pages continue when the next page loads', async () => {
    const [b1, b2, b3] = batch as [Asset, Asset, Asset];
    const pages: Record<string, Response> = {
      'GET /api/assets?limit=60': json(200, { assets: [b1, b2], nextCursor: 'c1' }),
      'GET /api/assets?cursor=c1&limit=60': json(200, { assets: [b3, ...loose], nextCursor: null }),
    };
    server([...batch, ...loose], pages);
    const user = userEvent.setup();
    render('/gallery?group=1');
    await waitFor(() => expect(tiles()).toHaveLength(1));
    expect(screen.getByRole('button', { name: `2 results: ${batch[0]?.prompt ?? ''}` })).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(tiles()).toHaveLength(3));
    expect(screen.getByRole('button', { name: stackName })).toBeTruthy();
  });
});
