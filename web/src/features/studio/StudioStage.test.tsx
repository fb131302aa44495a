// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Job, Model, Spec, User } from '../../api/types';
import { AssetViewerContext, type AssetViewerProps } from '../../components/assetViewer';
import { json, renderWithProviders, stubServer, type Call } from '../../test/harness';
import { lastUsedKey } from './lastUsed';
import { Stage } from './Stage';
import { StudioPage } from './StudioPage';
import { MockEventSource } from './test/eventSource';
import { asset, job } from './test/jobs';
import { asModel, kontext, seedreamT2I } from './test/specs';

const ada: User = { id: 'u1', email: 'ada@example.com', hasFalKey: true, role: 'member', mayUseStudioKey: false };
const tts: Spec = {
  endpointId: 'fake-ai/tts',
  displayName: 'Fake TTS',
  category: 'text-to-speech',
  outputKind: 'audio',
  promptField: 'gen_text',
  fields: [{ name: 'gen_text', type: 'text', required: true, title: 'Text to speak', group: 'main' }],
};
const specs = [seedreamT2I, kontext, tts];
const catalog: Model[] = specs.map((spec) => asModel(spec));

beforeEach(() => {
  localStorage.clear();
  MockEventSource.instances = [];
  vi.stubGlobal('EventSource', MockEventSource);
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function server(jobs: Job[] = [], overrides: Record<string, (call: Call) => Response> = {}) {
  return stubServer({
    'GET /api/models': (call) => {
      const q = (new URLSearchParams(call.search ?? '').get('q') ?? '').toLowerCase();
      return json(200, { models: catalog.filter((m) => m.endpointId.includes(q)), nextCursor: null, stale: false });
    },
    'GET /api/models/spec': (call) => json(200, specs.find((s) => s.endpointId === new URLSearchParams(call.search ?? '').get('endpoint'))),
    'GET /api/models/favorites': () => json(200, { models: [] }),
    'GET /api/models/recent': () => json(200, { models: [] }),
    'POST /api/models/recent': () => json(200, { models: [] }),
    'POST /api/models/estimate': () =>
      json(200, { estimate: { totalCost: 0.04, currency: 'USD', unit: 'image', unitQuantity: 1, unitPrice: 0.04 }, reason: null }),
    'POST /api/generations': () => {
      const created = job({ id: 'new', status: 'queued' });
      return json(202, { job: created, jobs: [created] });
    },
    'GET /api/jobs': () => json(200, { jobs }),
    ...overrides,
  });
}

async function pick(user: ReturnType<typeof userEvent.setup>, spec: Spec) {
  const search = screen.getByRole('searchbox', { name: 'Search models' });
  await user.clear(search);
  await user.type(search, spec.endpointId.split('/').at(-1) ?? '');
  const button = await waitFor(() => {
    const list = screen.getByRole('list', { name: 'Models' });
    const found = within(list).getAllByRole('button').find((b) => b.textContent?.includes(spec.endpointId));
    if (found === undefined || within(list).getAllByRole('listitem').length > 1) throw new Error('still searching');
    return found;
  });
  await user.click(button);
  await screen.findByRole('heading', { name: spec.displayName ?? spec.endpointId, level: 2 });
}

const promptBox = () => screen.getByRole('textbox', { name: /^Prompt/ }) as HTMLTextAreaElement;

describe('the stage', () => {
  const done = job({
    id: 'done',
    status: 'completed',
    requestId: 'req-1',
    startedAt: '2026-11-25T10:00:00Z',
    finishedAt: '2026-11-25T10:00:04Z',
    estimate: { totalCost: 0.08, currency: 'USD', unit: 'image', unitPrice: 0.04, unitQuantity: 2 },
    assets: [
      asset({ id: 'one', seed: 1234, width: 1024, height: 768 }),
      asset({ id: 'two', seed: 1235, width: 1024, height: 768 }),
    ],
  });

  it('shows the latest run large, with seed, size and cost, and opens a result in the app’s viewer', async () => {
    server([done, job({ id: 'older', createdAt: '2026-11-24T10:00:00Z', status: 'completed', assets: [asset({ id: 'old' })] })]);
    const opened: AssetViewerProps[] = [];
    const viewer = (props: AssetViewerProps) => {
      opened.push(props);
      return <p data-testid="viewer">viewing {props.viewing.id}</p>;
    };
    renderWithProviders(
      <AssetViewerContext.Provider value={viewer}>
        <StudioPage user={ada} />
      </AssetViewerContext.Provider>,
      '/studio',
    );
    const stage = await screen.findByRole('region', { name: 'Latest results' });
    const first = await within(stage).findByRole('button', { name: 'Result 1 of Seedream 4.0' });
    expect(within(stage).queryByRole('img', { name: /old/ })).toBeNull();
    const result = first.closest('figure') as HTMLElement;
    expect(result.querySelector('[data-fact="seed"]')?.textContent).toBe('Seed1234');
    expect(result.querySelector('[data-fact="size"]')?.textContent).toBe('Size1024 × 768');
    expect(within(stage).getByTestId('stage-cost').textContent).toBe('took 0:04 · est. $0.08');
    expect(stage.querySelector('a[href^="/files/"]')).toBeNull();

    await userEvent.setup().click(first);
    expect((await screen.findByTestId('viewer')).textContent).toBe('viewing one');
    expect(opened.at(-1)?.viewing.among.map((a) => a.id)).toEqual(['one', 'two']);
  });

  it('plays video and audio in place, with the viewer one button away', async () => {
    server([
      job({
        id: 'media',
        status: 'completed',
        assets: [
          asset({ id: 'clip', resultKind: 'video', contentType: 'video/mp4', outputDuration: 8 }),
          asset({ id: 'voice', resultKind: 'audio', contentType: 'audio/mpeg', outputDuration: 3.5 }),
        ],
      }),
    ]);
    renderWithProviders(
      <AssetViewerContext.Provider value={(props) => <p data-testid="viewer">viewing {props.viewing.id}</p>}>
        <StudioPage user={ada} />
      </AssetViewerContext.Provider>,
      '/studio',
    );
    const stage = await screen.findByRole('region', { name: 'Latest results' });
    const video = await waitFor(() => stage.querySelector('video') ?? Promise.reject(new Error('no video yet')));
    expect(video.controls).toBe(true);
    expect(stage.querySelector('audio')?.controls).toBe(true);
    expect(stage.querySelector('[data-asset-id="clip"] [data-fact="duration"]')?.textContent).toBe('Duration8 seconds');
    await userEvent.setup().click(within(stage).getByRole('button', { name: 'Details of Result 2 of Seedream 4.0' }));
    expect((await screen.findByTestId('viewer')).textContent).toBe('viewing voice');
  });

  it('shows no cost for a job refused before fal took it', async () => {
    server([
      job({
        id: 'refused',
        status: 'failed',
        requestId: null,
        estimate: { totalCost: 0.04, currency: 'USD', unit: 'image', unitPrice: 0.04, unitQuantity: 1 },
        error: { category: 'invalid_request', message: 'fal refused the request.' },
      }),
    ]);
    renderWithProviders(<StudioPage user={ada} />, '/studio');
    const stage = await screen.findByRole('region', { name: 'Latest results' });
    await within(stage).findByText('fal refused the request.');
    expect(within(stage).queryByTestId('stage-cost')).toBeNull();
    const queued = document.querySelector('[data-job-id="refused"]') as HTMLElement;
    expect(queued.textContent).not.toMatch(/est\. \$/);
  });

  describe('on its own', () => {
    const renderStage = (jobs: Job[], replies: Record<string, Response> = {}) => {
      stubServer({ 'GET /api/jobs': json(200, { jobs }), ...replies });
      renderWithProviders(<Stage />);
      return screen.findByRole('region', { name: 'Latest results' });
    };
    const stageJob = (id: string) =>
      waitFor(() => document.querySelector<HTMLElement>(`[data-stage-job="${id}"]`) ?? Promise.reject(new Error(`no job ${id}`)));

    it('says a job’s files were deleted from the gallery, and asks for none of them', async () => {
      const stage = await renderStage([job({ id: 'gone', status: 'completed', assets: [], outputCount: 3 })]);
      const card = await stageJob('gone');
      expect(card.textContent).toContain('Its 3 files were deleted from the gallery.');
      expect(card.textContent).not.toContain('fal returned no files');
      expect(stage.querySelector('img, video, audio')).toBeNull();
    });

    it('shows the files left, and how many of them were deleted', async () => {
      const stage = await renderStage([job({ id: 'some', status: 'completed', assets: [asset({ id: 'kept' })], outputCount: 3 })]);
      const card = await stageJob('some');
      expect(within(card).getByTestId('files-note').textContent).toBe('2 of 3 files deleted from the gallery.');
      expect([...stage.querySelectorAll('img')].map((img) => img.getAttribute('src'))).toEqual(['/files/kept']);
    });

    it('says fal returned no files only when it stored none', async () => {
      await renderStage([job({ id: 'empty', status: 'completed', assets: [], outputCount: 0 })]);
      expect((await stageJob('empty')).textContent).toContain('fal returned no files.');
    });

    it('counts fal’s queue from 1: position 0 is next in line', async () => {
      await renderStage([
        job({ id: 'next', groupId: 'g', status: 'running', queuePosition: 0, createdAt: '2026-11-25T10:00:00Z' }),
        job({ id: 'later', groupId: 'g', status: 'running', queuePosition: 4, createdAt: '2026-11-25T10:00:01Z' }),
      ]);
      expect((await stageJob('next')).textContent).toContain('In fal’s queue, next in line.');
      expect((await stageJob('later')).textContent).toContain('In fal’s queue, position 5.');
    });

    it('numbers the runs of one model, not the models of a compare', async () => {
      await renderStage([
        job({ id: 'tts', groupId: 'cmp', endpointId: 'fal-ai/elevenlabs/tts', modelName: 'ElevenLabs TTS', createdAt: '2026-11-25T10:00:00Z' }),
        job({ id: 'seed', groupId: 'cmp', createdAt: '2026-11-25T10:00:01Z' }),
        job({ id: 'veo', groupId: 'cmp', endpointId: 'fal-ai/veo3', modelName: 'Veo 3', createdAt: '2026-11-25T10:00:02Z' }),
      ]);
      const model = async (id: string) => (await stageJob(id)).querySelector('.job-model')?.textContent;
      expect([await model('tts'), await model('seed'), await model('veo')]).toEqual(['ElevenLabs TTS', 'Seedream 4.0', 'Veo 3']);
      cleanup();

      await renderStage([
        job({ id: 'a', groupId: 'runs', status: 'completed', assets: [asset({ id: 'ia' })], createdAt: '2026-11-25T10:00:00Z' }),
        job({ id: 'b', groupId: 'runs', status: 'completed', assets: [asset({ id: 'ib' })], createdAt: '2026-11-25T10:00:01Z' }),
      ]);
      expect([await model('a'), await model('b')]).toEqual(['Seedream 4.0 #1', 'Seedream 4.0 #2']);
      expect(screen.getByRole('img', { name: 'Result of Seedream 4.0 #2' })).toBeTruthy();
    });

    it('words a key fal turned down with the way to Settings, fal’s message folded away', async () => {
      const stage = await renderStage([
        job({ id: 'k', status: 'failed', error: { category: 'invalid_key', message: 'Invalid API key provided' } }),
      ], {
        'GET /api/account/budget': json(200, {
          keySource: 'own',
          budgetMonthlyUsd: null,
          spentMonthUsd: 0,
          reservedUsd: 0,
          remainingUsd: null,
          resetsAt: '2027-01-01T00:00:00Z',
          warning: false,
        }),
      });
      const failure = await within(stage).findByTestId('key-rejected');
      await waitFor(() => expect(failure.querySelector('.job-error')?.textContent).toBe('The fal key this job used was not accepted. Replace your fal key in Settings, then retry.'));
      expect(within(failure).getByRole('link', { name: 'Settings' }).getAttribute('href')).toBe('/settings');
      expect(failure.querySelector('details')?.textContent).toBe('Full messageInvalid API key provided');
      expect(within(stage).queryByTestId('error-category')).toBeNull();
    });
  });
});

describe('generating', () => {
  it('multiplies the estimate by the runs, says how many jobs Generate makes, and takes Ctrl+Enter', async () => {
    const { calls } = server();
    renderWithProviders(<StudioPage user={ada} />, '/studio');
    const user = userEvent.setup();
    await pick(user, seedreamT2I);
    await user.type(promptBox(), 'a red fox');
    await waitFor(() => expect(screen.getByTestId('estimate').textContent).toBe('Estimated cost: $0.04 (1 image)'));
    const generate = screen.getByRole('button', { name: 'Generate' });
    expect(generate.getAttribute('aria-keyshortcuts')).toBe('Control+Enter Meta+Enter');
    expect(generate.getAttribute('title')).toContain('Ctrl+Enter');

    const runs = screen.getByRole('spinbutton', { name: 'Runs' });
    await user.clear(runs);
    await user.type(runs, '3');
    expect(screen.getByRole('button', { name: 'Generate 3 jobs' })).toBe(generate);
    expect(screen.getByTestId('estimate').textContent).toBe('Estimated cost: $0.12 (3 runs × $0.04, 1 image each)');

    // From inside the textarea, where a plain Enter is a new line.
    fireEvent.keyDown(promptBox(), { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(calls.filter((c) => c.key === 'POST /api/generations')).toHaveLength(1));
    expect(calls.find((c) => c.key === 'POST /api/generations')?.form?.get('count')).toBe('3');
    fireEvent.keyDown(promptBox(), { key: 'Enter', metaKey: true });
    await waitFor(() => expect(calls.filter((c) => c.key === 'POST /api/generations')).toHaveLength(2));
    fireEvent.keyDown(promptBox(), { key: 'Enter' });
    expect(calls.filter((c) => c.key === 'POST /api/generations')).toHaveLength(2);
  });

  it('does not send on Ctrl+Enter while the form is incomplete', async () => {
    const { calls } = server();
    renderWithProviders(<StudioPage user={ada} />, '/studio');
    const user = userEvent.setup();
    await pick(user, seedreamT2I);
    fireEvent.keyDown(promptBox(), { key: 'Enter', ctrlKey: true });
    expect(await screen.findByText('This field is required.')).toBeTruthy();
    expect(calls.some((c) => c.key === 'POST /api/generations')).toBe(false);
  });
});

describe('the prompt across models and visits', () => {
  it('carries the prompt into a model whose prompt field has another name', async () => {
    server();
    renderWithProviders(<StudioPage user={ada} />, '/studio');
    const user = userEvent.setup();
    await pick(user, seedreamT2I);
    await user.type(promptBox(), 'hello there');
    await pick(user, tts);
    expect((screen.getByRole('textbox', { name: /^Text to speak/ }) as HTMLTextAreaElement).value).toBe('hello there');
    await user.type(screen.getByRole('textbox', { name: /^Text to speak/ }), ', friend');
    await pick(user, seedreamT2I);
    expect(promptBox().value).toBe('hello there, friend');
  });

  it('brings back the last model and its values on the next visit, per user', async () => {
    server();
    renderWithProviders(<StudioPage user={ada} />, '/studio');
    const user = userEvent.setup();
    await pick(user, kontext);
    await user.type(promptBox(), 'a fox in the snow');
    await waitFor(() => expect(localStorage.getItem(lastUsedKey('u1'))).toContain('a fox in the snow'));
    cleanup();

    renderWithProviders(<StudioPage user={ada} />, '/studio');
    await screen.findByRole('heading', { name: kontext.displayName ?? '', level: 2 });
    await waitFor(() => expect(promptBox().value).toBe('a fox in the snow'));
    cleanup();

    // Another account in the same browser starts afresh.
    renderWithProviders(<StudioPage user={{ ...ada, id: 'u2' }} />, '/studio');
    expect(await screen.findByText('Pick a model to start.')).toBeTruthy();
    cleanup();

    // A model in the address wins; the stored values are kept for when that model comes back.
    renderWithProviders(<StudioPage user={ada} />, `/studio?model=${encodeURIComponent(seedreamT2I.endpointId)}`);
    await screen.findByRole('heading', { name: 'Seedream 4.0', level: 2 });
    expect(promptBox().value).toBe('');
  });
});

describe('on a phone', () => {
  it('folds the form behind a toggle, and picking a model opens it and goes there', async () => {
    vi.stubGlobal('matchMedia', (query: string) => ({
      matches: query === '(max-width: 640px)',
      media: query,
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
    }));
    const scrolled = vi.fn();
    const scrollIntoView = vi.spyOn(HTMLElement.prototype, 'scrollIntoView').mockImplementation(scrolled);
    server();
    renderWithProviders(<StudioPage user={ada} />, '/studio');
    const user = userEvent.setup();
    const hide = await screen.findByRole('button', { name: 'Hide the form' });
    expect(hide.getAttribute('aria-expanded')).toBe('true');
    await user.click(hide);
    const show = screen.getByRole('button', { name: 'Show the form' });
    expect(show.getAttribute('aria-expanded')).toBe('false');
    expect(show.parentElement?.classList.contains('studio-main-folded')).toBe(true);

    await pick(user, seedreamT2I);
    expect(screen.getByRole('button', { name: 'Hide the form' }).parentElement?.classList.contains('studio-main-folded')).toBe(false);
    await waitFor(() => expect(scrolled).toHaveBeenCalledWith({ block: 'start', behavior: 'smooth' }));
    scrollIntoView.mockRestore();
  });
});

describe('compare mode', () => {
  it('sends on Ctrl+Enter, each model getting the prompt in its own prompt field', async () => {
    const { calls } = server([], {
      'POST /api/generations': (call) => {
        const created = job({ id: call.form?.get('endpoint') as string, groupId: 'cmp', status: 'queued' });
        return json(202, { job: created, jobs: [created] });
      },
    });
    renderWithProviders(<StudioPage user={ada} />, '/studio?compare=');
    const user = userEvent.setup();
    for (const spec of [seedreamT2I, tts]) {
      const search = screen.getByRole('searchbox', { name: 'Search models' });
      await user.clear(search);
      await user.type(search, spec.endpointId.split('/').at(-1) ?? '');
      const button = await waitFor(() => {
        const list = screen.getByRole('list', { name: 'Models' });
        const found = within(list).getAllByRole('button').find((b) => b.textContent?.includes(spec.endpointId));
        if (found === undefined || within(list).getAllByRole('listitem').length > 1) throw new Error('still searching');
        return found;
      });
      await user.click(button);
    }
    const form = await screen.findByRole('form', { name: 'Compare settings' });
    await user.type(within(form).getByRole('textbox', { name: /^Prompt/ }), 'hello there');
    expect(within(form).getByRole('button', { name: 'Compare 2 models' }).getAttribute('aria-keyshortcuts')).toBe('Control+Enter Meta+Enter');
    fireEvent.keyDown(within(form).getByRole('textbox', { name: /^Prompt/ }), { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(calls.filter((c) => c.key === 'POST /api/generations')).toHaveLength(2));
    const sent = calls.filter((c) => c.key === 'POST /api/generations').map((c) => c.form as FormData);
    const toTts = sent.find((form) => form.get('endpoint') === tts.endpointId);
    expect(JSON.parse(toTts?.get('params') as string)).toEqual({ gen_text: 'hello there' });
  });
});
