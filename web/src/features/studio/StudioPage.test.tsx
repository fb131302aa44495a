// @vitest-environment happy-dom
import { act, cleanup, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Asset, Model, Spec, User } from '../../api/types';
import { apiError, json, renderWithProviders, stubServer, type Call } from '../../test/harness';
import { STALE_MESSAGE } from './ModelPicker';
import { NO_KEY_REASON } from './ModelForm';
import { noticesShown, selectionKey, StudioPage } from './StudioPage';
import { MockEventSource } from './test/eventSource';
import { asset, job } from './test/jobs';
import { asModel, kontext, nanoBananaEdit, png, seedreamT2I } from './test/specs';

const withKey: User = { id: 'u1', email: 'ada@example.com', hasFalKey: true, role: 'member', mayUseStudioKey: false };
const withoutKey: User = { ...withKey, hasFalKey: false };
const specs = [kontext, nanoBananaEdit, seedreamT2I];
const catalog: Model[] = [
  ...specs.map((spec) => asModel(spec)),
  ...Array.from({ length: 5 }, (_, i) => ({ ...asModel(seedreamT2I), endpointId: `fake-ai/filler-${i}`, displayName: `Filler ${i}`, price: null })),
];

beforeEach(() => {
  // The page keeps the last model and values per user: each test starts as a first visit.
  localStorage.clear();
  MockEventSource.instances = [];
  vi.stubGlobal('EventSource', MockEventSource);
  URL.createObjectURL = vi.fn(() => 'blob:preview');
  URL.revokeObjectURL = vi.fn();
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function param(call: Call, name: string) {
  return new URLSearchParams(call.search ?? '').get(name);
}

function server(overrides: Record<string, Response | ((call: Call) => Response)> = {}) {
  let favorites: Model[] = [];
  return stubServer({
    'GET /api/models': (call) => {
      const q = (param(call, 'q') ?? '').toLowerCase();
      const models = catalog.filter((m) => m.endpointId.includes(q) || m.displayName.toLowerCase().includes(q));
      return json(200, { models, nextCursor: null, stale: false });
    },
    'GET /api/models/spec': (call) => {
      const spec = specs.find((s) => s.endpointId === param(call, 'endpoint'));
      return spec === undefined ? apiError(404, 'not_found', 'No such model.') : json(200, spec);
    },
    'GET /api/models/favorites': () => json(200, { models: favorites }),
    'PUT /api/models/favorites': (call) => {
      const { endpointId } = call.body as { endpointId: string };
      favorites = catalog.filter((m) => m.endpointId === endpointId);
      return json(200, { models: favorites });
    },
    'GET /api/models/recent': () => json(200, { models: [] }),
    'POST /api/models/recent': (call) =>
      json(200, { models: catalog.filter((m) => m.endpointId === (call.body as { endpointId: string }).endpointId) }),
    'POST /api/models/estimate': () =>
      json(200, { estimate: { totalCost: 0.04, currency: 'USD', unit: 'image', unitQuantity: 1, unitPrice: 0.04 }, reason: null }),
    'POST /api/generations': apiError(404, 'not_found', 'No route for POST /api/generations.'),
    'GET /api/jobs': json(200, { jobs: [] }),
    ...overrides,
  });
}

const results = () => screen.getByRole('list', { name: 'Models' });

async function pick(user: ReturnType<typeof userEvent.setup>, spec: Spec) {
  const search = screen.getByRole('searchbox', { name: 'Search models' });
  await user.clear(search);
  await user.type(search, spec.endpointId.split('/')[1] ?? '');
  const button = await waitFor(() => {
    const found = within(results()).getAllByRole('button').find((b) => b.textContent?.includes(spec.endpointId));
    if (found === undefined || within(results()).getAllByRole('listitem').length > 1) throw new Error('still searching');
    return found;
  });
  await user.click(button);
  await screen.findByRole('heading', { name: spec.displayName ?? spec.endpointId, level: 2 });
}

describe('StudioPage', () => {
  it('lists models with their unit price, and says when the catalog is stale', async () => {
    server({
      'GET /api/models': json(200, { models: catalog, nextCursor: null, stale: true }),
    });
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const item = await screen.findByRole('button', { name: /^FLUX\.1 Kontext \[pro\]/ });
    expect(item.textContent).toContain('$0.04 per image');
    expect(within(results()).getByRole('button', { name: /^Filler 0/ }).textContent).toContain('price unknown');
    expect(screen.getByText(STALE_MESSAGE)).toBeTruthy();
  });

  it('debounces the search and filters by category', async () => {
    const { calls } = server();
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    await screen.findByRole('button', { name: /^Filler 0/ });
    await user.type(screen.getByRole('searchbox', { name: 'Search models' }), 'kontext');
    await waitFor(() => expect(within(results()).getAllByRole('listitem')).toHaveLength(1));
    const searches = calls.filter((c) => c.key === 'GET /api/models').map((c) => param(c, 'q'));
    expect(searches).toEqual([null, 'kontext']);

    await user.click(screen.getByRole('button', { name: 'Image to video' }));
    expect(screen.getByRole('button', { name: 'Image to video' }).getAttribute('aria-pressed')).toBe('true');
    await waitFor(() => expect(calls.some((c) => param(c, 'category') === 'image-to-video')).toBe(true));

    // fal files voice models (ElevenLabs) under text-to-speech: a chip of its own.
    const chips = screen.getByRole('group', { name: 'Category' });
    await user.click(within(chips).getByRole('button', { name: 'Text to speech' }));
    await waitFor(() => expect(calls.some((c) => param(c, 'category') === 'text-to-speech')).toBe(true));
    expect(within(chips).getByRole('button', { name: 'Text to audio' }).getAttribute('aria-pressed')).toBe('false');
  });

  it('has a skip link past the model list to the form', async () => {
    server();
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    await screen.findByRole('button', { name: /^Filler 0/ });
    const skip = screen.getByRole('link', { name: 'Skip to the form' });
    // Before the list in the tab order.
    expect(skip.compareDocumentPosition(screen.getByRole('searchbox', { name: 'Search models' })) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    await user.click(skip);
    const panel = document.activeElement as HTMLElement;
    expect(panel.classList.contains('studio-main')).toBe(true);
    expect(skip.getAttribute('href')).toBe(`#${panel.id}`);
    // The next stop is in the form panel, not in the list.
    await user.tab();
    expect(panel.contains(document.activeElement)).toBe(true);
    expect(document.activeElement?.textContent).toBe('One model');
  });

  it('loads the next page with the cursor', async () => {
    const { calls } = server({
      'GET /api/models': (call) =>
        param(call, 'cursor') === null
          ? json(200, { models: catalog.slice(0, 3), nextCursor: 'c2', stale: false })
          : json(200, { models: catalog.slice(3), nextCursor: null, stale: false }),
    });
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Load more' }));
    await screen.findByRole('button', { name: /^Filler 4/ });
    expect(calls.filter((c) => c.key === 'GET /api/models').map((c) => param(c, 'cursor'))).toEqual([null, 'c2']);
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });

  it('stars a favourite and shows it in a Favourites section', async () => {
    const { calls } = server();
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Favourite Seedream 4.0' }));
    const section = await screen.findByRole('region', { name: 'Favourites' });
    expect(within(section).getByRole('button', { name: /^Seedream 4\.0/ })).toBeTruthy();
    expect(calls.find((c) => c.key === 'PUT /api/models/favorites')?.body).toEqual({ endpointId: seedreamT2I.endpointId });
    expect(
      within(results()).getByRole('button', { name: 'Favourite Seedream 4.0' }).getAttribute('aria-pressed'),
    ).toBe('true');
  });

  it('keeps values per model and uploads per bucket across model switches', async () => {
    const { calls } = server();
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();

    await pick(user, kontext);
    expect(calls.find((c) => c.key === 'POST /api/models/recent')?.body).toEqual({ endpointId: kontext.endpointId });
    expect(screen.getByTestId('unit-price').textContent).toBe('$0.04 per image');
    expect(screen.getByRole('button', { name: /FLUX\.1 Kontext/, current: true })).toBeTruthy();
    const prompt = screen.getByRole('textbox', { name: /^Prompt/ });
    expect(prompt.getAttribute('aria-required')).toBe('true');
    await user.type(prompt, 'a red fox');
    const references = screen.getByRole('region', { name: /^References/ });
    await user.upload(within(references).getByLabelText(/choose a file/), png('fox.png'));
    expect(within(references).getByText('fox.png')).toBeTruthy();

    await pick(user, nanoBananaEdit);
    expect(within(screen.getByRole('region', { name: /^References/ })).getByText('fox.png')).toBeTruthy();
    expect(screen.queryByTestId('upload-notice')).toBeNull();
    // The prompt follows to the next model; its other settings are its own.
    expect((screen.getByRole('textbox', { name: /^Prompt/ }) as HTMLTextAreaElement).value).toBe('a red fox');

    await pick(user, seedreamT2I);
    expect(screen.getByTestId('upload-notice').textContent).toContain(
      'Dropped 1 reference: this model takes no reference images.',
    );
    expect(screen.queryByRole('region', { name: /^References/ })).toBeNull();

    await pick(user, kontext);
    expect((screen.getByRole('textbox', { name: /^Prompt/ }) as HTMLTextAreaElement).value).toBe('a red fox');
    expect(within(screen.getByRole('region', { name: /^References/ })).queryByText('fox.png')).toBeNull();
  });

  it('drops a notice about a model switch with the next switch, even to a model without a form', async () => {
    server();
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    await pick(user, kontext);
    await user.upload(within(screen.getByRole('region', { name: /^References/ })).getByLabelText(/choose a file/), png('fox.png'));
    await pick(user, seedreamT2I);
    expect(screen.getByTestId('upload-notice').textContent).toContain('Dropped 1 reference');

    // A model fal lists without a form: no spec arrives, and the notice still goes.
    const search = screen.getByRole('searchbox', { name: 'Search models' });
    await user.clear(search);
    await user.type(search, 'filler-0');
    const filler = await waitFor(() => {
      const found = within(results()).getAllByRole('button').find((b) => b.textContent?.includes('fake-ai/filler-0'));
      if (found === undefined || within(results()).getAllByRole('listitem').length > 1) throw new Error('still searching');
      return found;
    });
    await user.click(filler);
    await screen.findByText(/without an input form/);
    expect(screen.queryByTestId('upload-notice')).toBeNull();
    // Nor does it come back with the model it was about.
    await pick(user, seedreamT2I);
    expect(screen.queryByTestId('upload-notice')).toBeNull();
  });

  it('estimates the price, sends the generation as multipart and shows the server’s answer', async () => {
    const { calls } = server();
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    await pick(user, kontext);

    const generate = screen.getByRole('button', { name: 'Generate' });
    expect(generate.hasAttribute('disabled')).toBe(true);
    expect(screen.getByTestId('generate-reason').textContent).toBe('Fill in Prompt to generate.');
    await user.type(screen.getByRole('textbox', { name: /^Prompt/ }), 'a red fox');
    expect(screen.getByTestId('generate-reason').textContent).toBe('References: Add a file.');
    await user.upload(
      within(screen.getByRole('region', { name: /^References/ })).getByLabelText(/choose a file/),
      png('fox.png'),
    );
    expect(screen.queryByTestId('generate-reason')).toBeNull();

    await waitFor(() => expect(screen.getByTestId('estimate').textContent).toBe('Estimated cost: $0.04 (1 image)'));
    const estimate = calls.find((c) => c.key === 'POST /api/models/estimate');
    expect(estimate?.body).toEqual({
      endpoint: kontext.endpointId,
      params: { prompt: 'a red fox', num_images: 1, output_format: 'jpeg', sync_mode: false, guidance_scale: 3.5 },
    });

    await user.click(generate);
    expect((await screen.findByRole('alert')).textContent).toBe('No route for POST /api/generations.');
    const form = calls.find((c) => c.key === 'POST /api/generations')?.form;
    expect(form?.get('endpoint')).toBe(kontext.endpointId);
    expect(JSON.parse(form?.get('params') as string)).toMatchObject({ prompt: 'a red fox' });
    expect((form?.get('generalReferences') as File).name).toBe('fox.png');
  });

  it('shows the server’s 422 details on the matching fields', async () => {
    server({
      'POST /api/generations': apiError(422, 'invalid_request', 'Some settings are not valid.', [
        { field: 'num_images', message: 'fal allows at most 2 here.' },
      ]),
      'POST /api/models/estimate': json(200, { estimate: null, reason: 'fal publishes no price for this model.' }),
    });
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    await pick(user, seedreamT2I);
    await user.type(screen.getByRole('textbox', { name: /^Prompt/ }), 'a lake');
    await waitFor(() => expect(screen.getByTestId('estimate').textContent).toBe('fal publishes no price for this model.'));
    await user.click(screen.getByRole('button', { name: 'Generate' }));
    const message = await screen.findByText('fal allows at most 2 here.');
    const count = screen.getByRole('spinbutton', { name: 'Num Images' });
    expect(count.getAttribute('aria-invalid')).toBe('true');
    expect(count.getAttribute('aria-describedby')).toContain(message.id);
  });

  it('lets a user without a fal key browse, but not generate', async () => {
    server();
    renderWithProviders(<StudioPage user={withoutKey} />, '/studio');
    expect(screen.getByText(/add your fal key in/)).toBeTruthy();
    const user = userEvent.setup();
    await pick(user, seedreamT2I);
    expect(screen.getByRole('button', { name: 'Generate' }).hasAttribute('disabled')).toBe(true);
    expect(screen.getByTestId('generate-reason').textContent).toContain(NO_KEY_REASON);
  });
});

describe('StudioPage with a bare spec', () => {
  it('shows a model whose spec has no fields and no buckets', async () => {
    server({
      'GET /api/models/spec': json(200, { endpointId: seedreamT2I.endpointId, outputKind: 'image', fields: [] }),
    });
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: /^Seedream 4\.0/ }));
    expect(await screen.findByText('This model publishes no settings.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Generate' })).toBeTruthy();
  });
});

describe('StudioPage: words a person reads', () => {
  /** Clicks the catalog entry whose text has `id`, after searching for it. */
  async function pickById(user: ReturnType<typeof userEvent.setup>, id: string) {
    const search = screen.getByRole('searchbox', { name: 'Search models' });
    await user.clear(search);
    await user.type(search, id.split('/').at(-1) ?? id);
    const button = await waitFor(() => {
      const found = within(results()).getAllByRole('button').find((b) => b.textContent?.includes(id));
      if (found === undefined || within(results()).getAllByRole('listitem').length > 1) throw new Error('still searching');
      return found;
    });
    await user.click(button);
  }

  it('says in words that fal lists a model without an input form', async () => {
    server();
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    await pickById(user, 'fake-ai/filler-0');
    const note = await screen.findByText(/without an input form/);
    expect(note.textContent).toBe('fal lists Filler 0 without an input form, so the studio cannot run it. Pick another model.');
    expect(note.closest('[role]')?.getAttribute('role')).toBe('status');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('in compare, only the column of the model without a form says so; the others still compare', async () => {
    const { calls } = server({
      'POST /api/generations': (call) => {
        const endpoint = call.form?.get('endpoint') as string;
        const created = job({ id: endpoint, groupId: 'cmp', endpointId: endpoint, status: 'queued' });
        return json(202, { job: created, jobs: [created] });
      },
    });
    renderWithProviders(<StudioPage user={withKey} />, '/studio?compare=');
    const user = userEvent.setup();
    await pickById(user, seedreamT2I.endpointId);
    await pickById(user, 'fake-ai/filler-0');
    await pickById(user, nanoBananaEdit.endpointId);
    const form = await screen.findByRole('form', { name: 'Compare settings' });
    const notes = within(form).getByRole('list', { name: 'What each model gets' });
    const unavailable = notes.querySelector('[data-endpoint="fake-ai/filler-0"]');
    expect(unavailable?.textContent).toBe('Filler 0: fal lists Filler 0 without an input form, so the studio cannot run it. It is left out.');
    expect(notes.querySelector(`[data-endpoint="${seedreamT2I.endpointId}"]`)?.textContent).not.toMatch(/input form/);
    expect(screen.getByRole('list', { name: 'Models to compare' }).textContent).not.toMatch(/input form/);
    expect(screen.queryByRole('alert')).toBeNull();

    await user.type(within(form).getByRole('textbox', { name: /^Prompt/ }), 'a red fox');
    await user.upload(within(screen.getByRole('region', { name: /^References/ })).getByLabelText(/choose files/), png('fox.png'));
    await user.click(within(form).getByRole('button', { name: 'Compare 2 models' }));
    const grid = await screen.findByRole('region', { name: 'Compare results' });
    await waitFor(() => expect(calls.filter((c) => c.key === 'POST /api/generations')).toHaveLength(2));
    const column = (name: string) => within(grid).getByRole('region', { name: `Result of ${name}` });
    expect(column('Filler 0').textContent).toContain('fal lists Filler 0 without an input form, so the studio cannot run it.');
    expect(within(column('Filler 0')).getByTestId('job-status').textContent).toBe('Not run');
    expect(column('Seedream 4.0').textContent).not.toMatch(/input form/);
    expect(column('Nano Banana Edit').textContent).not.toMatch(/input form/);
  });

  it('prices and estimates per unit, in the right number', async () => {
    const veo: Spec = { ...seedreamT2I, endpointId: 'fal-ai/veo3', displayName: 'Veo 3', category: 'text-to-video', price: { unitPrice: 0.4, unit: 'seconds', currency: 'USD' } };
    const veoModel = asModel(veo);
    server({
      'GET /api/models': json(200, { models: [veoModel], nextCursor: null, stale: false }),
      'GET /api/models/spec': json(200, veo),
      'POST /api/models/estimate': json(200, { estimate: { totalCost: 3.2, currency: 'USD', unit: 'seconds', unitQuantity: 8, unitPrice: 0.4 }, reason: null }),
    });
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    const entry = await screen.findByRole('button', { name: /^Veo 3/ });
    expect(entry.textContent).toContain('Text to video · $0.40 per second');
    await user.click(entry);
    await screen.findByRole('heading', { name: 'Veo 3', level: 2 });
    expect(screen.getByTestId('unit-price').textContent).toBe('$0.40 per second');
    expect(document.querySelector('.form-header')?.textContent).toContain('fal-ai/veo3 · Text to video');
    await user.type(screen.getByRole('textbox', { name: /^Prompt/ }), 'waves');
    await waitFor(() => expect(screen.getByTestId('estimate').textContent).toBe('Estimated cost: $3.20 (8 seconds)'));
  });

  it('labels a fal 402 "Out of fal credits" on the job that failed', async () => {
    server({
      'GET /api/jobs': json(200, {
        jobs: [
          job({
            id: 'broke',
            status: 'failed',
            error: { category: 'invalid_request', message: 'fal: your balance is exhausted.', details: { providerStatus: 402, retryable: false } },
          }),
        ],
      }),
    });
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const failed = await waitFor(() => {
      const found = document.querySelector<HTMLElement>('[data-job-id="broke"]');
      if (found === null) throw new Error('not yet');
      return found;
    });
    expect(within(failed).getByTestId('error-category').textContent).toBe('Out of fal credits');
  });
});

describe('StudioPage: queue and compare', () => {
  const accepted = (extra: Parameters<typeof job>[0]) => {
    const created = job({ status: 'queued', ...extra });
    return json(202, { job: created, jobs: [created] });
  };

  it('never blocks Generate: each click is its own queue entry, and runs are sent as count', async () => {
    let release: (response: Response) => void = () => undefined;
    let posts = 0;
    const { calls } = server({
      'POST /api/generations': () => {
        posts += 1;
        if (posts === 1) return new Promise<Response>((resolve) => (release = resolve)) as unknown as Response;
        const created = [1, 2, 3].map((n) => job({ id: `run-${n}`, groupId: 'runs', createdAt: `2026-11-25T10:00:0${n}Z` }));
        return json(202, { job: created[0], jobs: created });
      },
    });
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    await pick(user, seedreamT2I);
    await user.type(screen.getByRole('textbox', { name: /^Prompt/ }), 'a red fox');
    const generate = screen.getByRole('button', { name: 'Generate' });

    await user.click(generate);
    const queue = screen.getByRole('region', { name: 'Queue' });
    await within(queue).findByText('Sending to the studio server…');
    expect(generate.hasAttribute('disabled')).toBe(false);

    const runs = screen.getByRole('spinbutton', { name: 'Runs' });
    await user.clear(runs);
    await user.type(runs, '3');
    await user.click(generate);
    await waitFor(() => expect(queue.querySelectorAll('[data-job-id^="run-"]')).toHaveLength(3));
    // The first request is still on its way, as its own entry.
    expect(within(queue).getByText('Sending to the studio server…')).toBeTruthy();
    const forms = calls.filter((c) => c.key === 'POST /api/generations').map((c) => c.form);
    expect(forms.map((f) => f?.get('count'))).toEqual(['1', '3']);

    release(accepted({ id: 'first', createdAt: '2026-11-25T09:59:00Z' }) as Response);
    await waitFor(() => expect(queue.querySelector('[data-job-id="first"]')).toBeTruthy());
    expect(within(queue).queryByText('Sending to the studio server…')).toBeNull();

    await user.clear(runs);
    await user.type(runs, '9');
    expect(screen.getByTestId('generate-reason').textContent).toBe('Runs: choose from 1 to 8.');
  });

  it('keeps a refused generation in the queue with its category and a retry', async () => {
    let answer = apiError(409, 'conflict', 'Add your fal key first.');
    const { calls } = server({ 'POST /api/generations': () => answer });
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    await pick(user, seedreamT2I);
    await user.type(screen.getByRole('textbox', { name: /^Prompt/ }), 'a lake');
    await user.click(screen.getByRole('button', { name: 'Generate' }));
    const queue = screen.getByRole('region', { name: 'Queue' });
    const refused = await waitFor(() => {
      const found = queue.querySelector<HTMLElement>('[data-status="refused"]');
      if (found === null) throw new Error('not refused yet');
      return found;
    });
    expect(within(refused).getByTestId('error-category').textContent).toBe('Conflict');
    expect(refused.textContent).toContain('Add your fal key first.');

    answer = accepted({ id: 'later' });
    await user.click(within(refused).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(queue.querySelector('[data-job-id="later"]')).toBeTruthy());
    expect(queue.querySelector('[data-status="refused"]')).toBeNull();
    expect(calls.filter((c) => c.key === 'POST /api/generations')).toHaveLength(2);
  });

  it('drops refused generations with Dismiss, or all of them with Clear finished', async () => {
    server({ 'POST /api/generations': () => apiError(409, 'conflict', 'Add your fal key first.') });
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    await pick(user, seedreamT2I);
    await user.type(screen.getByRole('textbox', { name: /^Prompt/ }), 'a lake');
    const queue = screen.getByRole('region', { name: 'Queue' });
    const refusedCount = () => queue.querySelectorAll('[data-status="refused"]').length;
    for (let i = 1; i <= 3; i += 1) {
      await user.click(screen.getByRole('button', { name: 'Generate' }));
      await waitFor(() => expect(refusedCount()).toBe(i));
    }

    await user.click(within(queue).getAllByRole('button', { name: 'Dismiss' })[0] as HTMLElement);
    await waitFor(() => expect(refusedCount()).toBe(2));
    // Refused generations are failures: "Clear finished" keeps them unless asked to clear them too.
    await user.click(within(queue).getByRole('button', { name: 'Clear finished' }));
    let confirm = await screen.findByRole('dialog', { name: 'Clear finished jobs?' });
    await user.click(within(confirm).getByRole('button', { name: 'Clear' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(refusedCount()).toBe(2);
    await user.click(within(queue).getByRole('button', { name: 'Clear finished' }));
    confirm = await screen.findByRole('dialog', { name: 'Clear finished jobs?' });
    await user.click(within(confirm).getByRole('checkbox', { name: 'Also clear 2 failed jobs' }));
    await user.click(within(confirm).getByRole('button', { name: 'Clear' }));
    await waitFor(() => expect(refusedCount()).toBe(0));
    expect(within(queue).queryByRole('list', { name: 'Being sent' })).toBeNull();
  });

  it('compares two models: one POST each, the same group, the params and uploads each one takes', async () => {
    const { calls } = server({
      'POST /api/generations': (call) => {
        const endpoint = call.form?.get('endpoint') as string;
        const groupId = (call.form?.get('groupId') as string | null) ?? 'cmp';
        const id = endpoint === kontext.endpointId ? 'k' : 's';
        return accepted({ id, groupId, endpointId: endpoint, groupLabel: 'Compare: a red fox', modelName: endpoint === kontext.endpointId ? 'FLUX.1 Kontext [pro]' : 'Seedream 4.0' });
      },
    });
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    await pick(user, seedreamT2I);
    await user.click(screen.getByRole('button', { name: 'Compare models' }));
    expect(screen.getByText(/Pick 2–4 models/)).toBeTruthy();
    await user.clear(screen.getByRole('searchbox', { name: 'Search models' }));
    await user.type(screen.getByRole('searchbox', { name: 'Search models' }), 'kontext');
    const kontextButton = await waitFor(() => {
      const found = within(results()).getAllByRole('button').find((b) => b.textContent?.includes(kontext.endpointId));
      if (found === undefined || within(results()).getAllByRole('listitem').length > 1) throw new Error('still searching');
      return found;
    });
    await user.click(kontextButton);

    const form = await screen.findByRole('form', { name: 'Compare settings' });
    const notes = within(form).getByRole('list', { name: 'What each model gets' });
    await user.type(within(form).getByRole('textbox', { name: /^Prompt/ }), 'a red fox');
    expect(notes.textContent).toContain('FLUX.1 Kontext [pro]: leaves out Image Size.');
    const compare = within(form).getByRole('button', { name: 'Compare 2 models' });
    expect(compare.hasAttribute('disabled')).toBe(true);
    expect(screen.getByTestId('generate-reason').textContent).toBe('References: Add a file.');
    await user.upload(within(screen.getByRole('region', { name: /^References/ })).getByLabelText(/choose a file/), png('fox.png'));
    expect(notes.textContent).toContain('Seedream 4.0: leaves out References.');

    await user.click(compare);
    const grid = await screen.findByRole('region', { name: 'Compare results' });
    expect(within(grid).getByRole('heading', { level: 2 }).textContent).toBe('Compare: a red fox');
    await waitFor(() => expect(calls.filter((c) => c.key === 'POST /api/generations')).toHaveLength(2));
    const [first, second] = calls.filter((c) => c.key === 'POST /api/generations').map((c) => c.form as FormData);
    expect(first?.get('endpoint')).toBe(seedreamT2I.endpointId);
    expect(first?.get('groupId')).toBeNull();
    expect(first?.get('groupLabel')).toBe('Compare: a red fox');
    expect(JSON.parse(first?.get('params') as string)).toEqual({ prompt: 'a red fox', image_size: { width: 2048, height: 2048 }, num_images: 1 });
    expect(first?.get('generalReferences')).toBeNull();
    expect(second?.get('endpoint')).toBe(kontext.endpointId);
    expect(second?.get('groupId')).toBe('cmp');
    expect(second?.get('groupLabel')).toBe('Compare: a red fox');
    expect(JSON.parse(second?.get('params') as string)).toEqual({ prompt: 'a red fox', num_images: 1 });
    expect((second?.get('generalReferences') as File).name).toBe('fox.png');

    const column = (name: string) => within(grid).getByRole('region', { name: `Result of ${name}` });
    await waitFor(() => expect(within(column('FLUX.1 Kontext [pro]')).getByTestId('job-status').textContent).toBe('Queued'));
    expect(within(column('FLUX.1 Kontext [pro]')).getByText('Left out: Image Size.')).toBeTruthy();

    const source = MockEventSource.latest();
    act(() =>
      source.emit('job', job({ id: 's', groupId: 'cmp', endpointId: seedreamT2I.endpointId, status: 'completed', assets: [asset({ id: 'seed-img' })] })),
    );
    act(() =>
      source.emit('job', job({ id: 'k', groupId: 'cmp', endpointId: kontext.endpointId, modelName: 'FLUX.1 Kontext [pro]', status: 'failed', error: { category: 'policy', message: 'Flagged by the safety checker.' } })),
    );
    await waitFor(() => expect(within(column('Seedream 4.0')).getByRole('img').getAttribute('src')).toBe('/files/seed-img'));
    await waitFor(() => expect(within(column('FLUX.1 Kontext [pro]')).getByTestId('error-category').textContent).toBe('Blocked by the content checker'));
    expect(column('FLUX.1 Kontext [pro]').textContent).toContain('Flagged by the safety checker.');
  });

  describe('arriving from the gallery', () => {
    const detail = (extra: Partial<Asset>) => ({ asset: { ...asset(extra), job: null, references: [] } });

    it('remixes: selects the asset’s model with its settings, then carries what the next model takes', async () => {
      const remixed = detail({ id: 'g1', endpointId: kontext.endpointId, params: { prompt: 'a red fox', num_images: 3, guidance_scale: 7 } });
      server({ 'GET /api/assets/g1': json(200, remixed) });
      renderWithProviders(<StudioPage user={withKey} />, '/studio?remix=g1');
      const user = userEvent.setup();
      await screen.findByRole('heading', { name: 'FLUX.1 Kontext [pro]', level: 2 });
      await waitFor(() => expect((screen.getByRole('textbox', { name: /^Prompt/ }) as HTMLTextAreaElement).value).toBe('a red fox'));
      expect(screen.getByTestId('upload-notice').textContent).toContain('Remix: the settings of the gallery item are filled in.');

      await pick(user, nanoBananaEdit);
      expect((screen.getByRole('textbox', { name: /^Prompt/ }) as HTMLTextAreaElement).value).toBe('a red fox');
      expect(screen.getByTestId('upload-notice').textContent).toContain('does not take');
    });

    it('uses an asset as a reference: shown from its URL, sent as a reference:<bucket> text part', async () => {
      const image = detail({ id: 'g2', fileName: 'whale.png', contentType: 'image/png', url: '/files/g2' });
      const { calls } = server({ 'GET /api/assets/g2': json(200, image) });
      renderWithProviders(<StudioPage user={withKey} />, `/studio?model=${encodeURIComponent(kontext.endpointId)}&reference=g2`);
      const user = userEvent.setup();
      const references = await screen.findByRole('region', { name: /^References/ });
      await within(references).findByText('whale.png');
      expect(within(references).getByRole('img', { name: 'Preview of whale.png' }).getAttribute('src')).toBe('/files/g2');
      await user.type(screen.getByRole('textbox', { name: /^Prompt/ }), 'a blue whale');
      await user.click(screen.getByRole('button', { name: 'Generate' }));
      await screen.findByRole('alert');
      const form = calls.find((c) => c.key === 'POST /api/generations')?.form;
      expect(form?.get('reference:generalReferences')).toBe('g2');
      expect(form?.has('generalReferences')).toBe(false);
    });

    it('says the gallery image was added (not fal’s file name), until it is removed', async () => {
      const image = detail({ id: 'g4', fileName: 'output-0.png', contentType: 'image/png', url: '/files/g4' });
      server({ 'GET /api/assets/g4': json(200, image) });
      renderWithProviders(<StudioPage user={withKey} />, `/studio?model=${encodeURIComponent(nanoBananaEdit.endpointId)}&reference=g4`);
      const user = userEvent.setup();
      const references = await screen.findByRole('region', { name: /^References/ });
      await within(references).findByText('output-0.png');
      const notice = screen.getByTestId('upload-notice');
      expect(notice.textContent).toContain('Added the image from your gallery to References.');
      expect(notice.textContent).not.toContain('output-0.png');

      await user.click(within(references).getByRole('button', { name: 'Remove output-0.png' }));
      expect(screen.queryByTestId('upload-notice')).toBeNull();
    });

    it('says so when the model takes no reference image, and attaches it to the next one that does', async () => {
      server({ 'GET /api/assets/g3': json(200, detail({ id: 'g3', fileName: 'owl.png' })) });
      renderWithProviders(<StudioPage user={withKey} />, `/studio?model=${encodeURIComponent(seedreamT2I.endpointId)}&reference=g3`);
      const user = userEvent.setup();
      const pending = await screen.findByTestId('reference-pending');
      expect(pending.textContent).toContain('Seedream 4.0 takes no reference image');
      expect(pending.textContent).toContain('the image from your gallery will be attached');
      expect(pending.textContent).not.toContain('owl.png');
      await pick(user, nanoBananaEdit);
      await within(screen.getByRole('region', { name: /^References/ })).findByText('owl.png');
      expect(screen.queryByTestId('reference-pending')).toBeNull();
    });
  });
});

describe('StudioPage: keys and budgets', () => {
  const budget = (keySource: 'own' | 'studio' | 'none', warning = false) =>
    json(200, {
      keySource,
      budgetMonthlyUsd: 5,
      spentMonthUsd: 3.9,
      reservedUsd: 0.2,
      remainingUsd: 0.9,
      resetsAt: '2027-01-01T00:00:00Z',
      warning,
    });
  const member: User = { ...withoutKey, mayUseStudioKey: true };

  it('says which key Generate runs on, and warns when the budget is nearly spent', async () => {
    server({ 'GET /api/account/budget': budget('own') });
    renderWithProviders(<StudioPage user={withKey} />, '/studio');
    const user = userEvent.setup();
    await pick(user, seedreamT2I);
    expect((await screen.findByTestId('key-use')).textContent).toBe('Runs on your key');
    expect(screen.queryByTestId('budget-warning')).toBeNull();
    cleanup();

    server({ 'GET /api/account/budget': budget('studio', true) });
    renderWithProviders(<StudioPage user={member} />, '/studio');
    await pick(user, seedreamT2I);
    await waitFor(() => expect(screen.getByTestId('key-use').textContent).toBe('Runs on the studio key'));
    // 3.90 spent and 0.20 reserved of 5.00: 82 %, not the 80 % the warning starts at.
    expect((await screen.findByTestId('budget-warning')).textContent).toBe('82% of your monthly budget is used: $0.90 left until Jan 1, 2027.');
    // Only the empty prompt holds Generate back, not the key.
    expect(screen.getByTestId('generate-reason').textContent).toBe('Fill in Prompt to generate.');
  });

  it('turns Generate off when the studio key the member may use is not set up', async () => {
    server({ 'GET /api/account/budget': budget('none') });
    renderWithProviders(<StudioPage user={member} />, '/studio');
    const user = userEvent.setup();
    await pick(user, seedreamT2I);
    await waitFor(() => expect(screen.getByTestId('generate-reason').textContent).toMatch(/^The studio key is not set up yet/));
    expect((screen.getByRole('button', { name: 'Generate' }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.queryByTestId('key-use')).toBeNull();
  });

  it('shows an over-budget refusal as the server words it, labelled "Over budget"', async () => {
    const message = 'This would cost about $0.06 and your budget has $0.05 left this month. It resets on Jan 1, 2027.';
    server({
      'GET /api/account/budget': budget('studio'),
      'POST /api/generations': apiError(402, 'budget_exceeded', message, {
        estimateUsd: 0.06,
        remainingUsd: 0.05,
        resetsAt: '2027-01-01T00:00:00Z',
        budget: 'user',
      }),
    });
    renderWithProviders(<StudioPage user={member} />, '/studio');
    const user = userEvent.setup();
    await pick(user, seedreamT2I);
    await user.type(screen.getByRole('textbox', { name: /^Prompt/ }), 'a lake');
    await waitFor(() => expect(screen.getByTestId('key-use').textContent).toBe('Runs on the studio key'));
    await user.click(screen.getByRole('button', { name: 'Generate' }));

    const form = screen.getByRole('form', { name: /^Settings for / });
    expect((await within(form).findByRole('alert')).textContent).toBe(message);
    const refused = await waitFor(() => {
      const found = screen.getByRole('region', { name: 'Queue' }).querySelector<HTMLElement>('[data-status="refused"]');
      if (found === null) throw new Error('not refused yet');
      return found;
    });
    expect(within(refused).getByTestId('error-category').textContent).toBe('Over budget');
    expect(refused.textContent).toContain(message);
  });
});

describe('noticesShown', () => {
  const kontextScope = selectionKey(false, kontext.endpointId, []);
  const items = { generalReferences: [{ id: 'kept', file: png('a.png') }] };

  it('keeps what is about this selection and files still attached, each sentence once', () => {
    const notices = [
      { text: 'Dropped 1 reference: this model takes no reference images.', scope: selectionKey(false, seedreamT2I.endpointId, []) },
      { text: 'Added the image from your gallery to References.', scope: kontextScope, itemId: 'kept' },
      { text: 'Added the image from your gallery to References.', scope: kontextScope, itemId: 'also-kept' },
      { text: 'Added the image from your gallery to References.', scope: kontextScope, itemId: 'removed' },
      { text: 'Remix: the settings of the job are filled in.', scope: kontextScope },
    ];
    expect(noticesShown(notices, kontextScope, { generalReferences: [...items.generalReferences, { id: 'also-kept', file: png('b.png') }] })).toEqual([
      'Added the image from your gallery to References.',
      'Remix: the settings of the job are filled in.',
    ]);
    expect(noticesShown(notices.slice(3), kontextScope, items)).toEqual(['Remix: the settings of the job are filled in.']);
    expect(noticesShown(notices, selectionKey(true, kontext.endpointId, [kontext.endpointId]), items)).toEqual([]);
  });
});
