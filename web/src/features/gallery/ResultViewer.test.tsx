// @vitest-environment happy-dom
import { cleanup, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Asset } from '../../api/types';
import { json, renderWithProviders, stubServer } from '../../test/harness';
import { ResultViewer } from './ResultViewer';

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
    byteSize: 2048,
    fileName: `${id}.png`,
    params: { prompt },
    createdAt: '2026-11-25T10:00:00Z',
    starred: false,
    ...extra,
  };
}

const fox = asset('a1', 'a red fox');
const whale = asset('a2', 'a blue whale', { starred: true });

beforeEach(() => {
  HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
    this.setAttribute('open', '');
  };
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function renderViewer(id: string) {
  const props = { onNavigate: vi.fn(), onClose: vi.fn(), onDeleted: vi.fn(), returnFocus: () => null };
  return renderWithProviders(<ResultViewer viewing={{ id, among: [fox, whale] }} {...props} />, '/studio');
}

describe('ResultViewer (the studio’s results in the gallery’s viewer)', () => {
  it('stars a result at once and keeps it starred once saved, before its details have loaded', async () => {
    let answer: (response: Response) => void = () => {};
    const put = new Promise<Response>((resolve) => {
      answer = resolve;
    });
    const { calls } = stubServer({
      // The details never come: only the studio's own copy of the asset is there to show.
      'GET /api/assets/a1': () => new Promise<Response>(() => {}),
      'PUT /api/assets/a1/star': () => put,
    });
    const user = userEvent.setup();
    const { queryClient } = renderViewer('a1');
    const dialog = await screen.findByRole('dialog', { name: 'a red fox' });
    const star = within(dialog).getByRole('button', { name: 'Star' });
    expect(star.getAttribute('aria-pressed')).toBe('false');

    await user.click(star);
    expect(star.getAttribute('aria-pressed')).toBe('true');
    expect(star.textContent).toBe('★ Unstar');
    expect(document.activeElement).toBe(star);
    answer(json(200, { asset: { ...fox, starred: true } }));
    await waitFor(() => expect(queryClient.isMutating()).toBe(0));
    expect(calls.filter((call) => call.key === 'PUT /api/assets/a1/star')).toHaveLength(1);
    expect(star.getAttribute('aria-pressed')).toBe('true');
    expect(within(dialog).getByRole('button', { name: 'Unstar' })).toBe(star);
  });

  it('shows a starred result as starred and unstars it, saying so when that fails', async () => {
    stubServer({
      'GET /api/assets/a2': () => json(200, { asset: { ...whale, job: null, references: [] } }),
      'DELETE /api/assets/a2/star': json(404, { error: { category: 'not_found', message: 'No such asset in this account.' } }),
    });
    const user = userEvent.setup();
    renderViewer('a2');
    const dialog = await screen.findByRole('dialog', { name: 'a blue whale' });
    const star = within(dialog).getByRole('button', { name: 'Unstar' });
    expect(star.getAttribute('aria-pressed')).toBe('true');
    await user.click(star);
    expect((await within(dialog).findByRole('alert')).textContent).toBe('Could not unstar this item: No such asset in this account.');
    expect(star.getAttribute('aria-pressed')).toBe('true');
  });
});
