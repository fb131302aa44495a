// @vitest-environment happy-dom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, renderHook, screen, waitFor, within } from '@testing-library/react';
import type { ReactNode } from 'react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '../../api/types';
import { apiError, json, renderWithProviders, stubServer, type Call } from '../../test/harness';
import { useClearAllFinished, useJobs } from './jobsApi';
import { QueuePanel } from './QueuePanel';
import { asset, job } from './test/jobs';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function renderPanel(jobs: Job[], replies: Record<string, Response | ((call: Call) => Response)> = {}) {
  const server = stubServer({ 'GET /api/jobs': json(200, { jobs }), ...replies });
  renderWithProviders(<QueuePanel live="live" />);
  return server;
}

const item = (id: string) => {
  const found = document.querySelector<HTMLElement>(`[data-job-id="${id}"]`);
  if (found === null) throw new Error(`no job ${id}`);
  return found;
};

describe('QueuePanel', () => {
  it('shows every status its own way', async () => {
    const started = new Date(Date.now() - 65_000).toISOString();
    renderPanel([
      job({ id: 'q', status: 'queued', waitReason: 'Waiting for a slot on the studio key (3rd in line)' }),
      job({ id: 's', status: 'submitting' }),
      job({ id: 'trouble', status: 'submitting', waitReason: 'fal is unavailable (503), trying again: attempt 3, next in 8 s' }),
      job({ id: 'r', status: 'running', startedAt: started, logs: [{ message: 'step 1/4', level: 'INFO', timestamp: started }] }),
      job({ id: 'st', status: 'storing', startedAt: started }),
      job({
        id: 'c',
        status: 'completed',
        startedAt: '2026-11-25T10:00:00Z',
        finishedAt: '2026-11-25T10:00:03Z',
        estimate: { totalCost: 0.03, currency: 'USD', unit: 'image', unitPrice: 0.03, unitQuantity: 1 },
        assets: [asset({ id: 'img' }), asset({ id: 'vid', resultKind: 'video', contentType: 'video/mp4' }), asset({ id: 'aud', resultKind: 'audio', contentType: 'audio/mpeg' })],
      }),
      job({ id: 'f', status: 'failed', error: { category: 'policy', message: 'The content was flagged.' } }),
      job({ id: 'x', status: 'cancelled' }),
    ]);
    await waitFor(() => expect(item('q')).toBeTruthy());

    const status = (id: string) => within(item(id)).getByTestId('job-status').textContent;
    expect(['q', 's', 'r', 'st', 'c', 'f', 'x'].map(status)).toEqual([
      'Queued',
      'Submitting',
      'Running',
      'Storing',
      'Completed',
      'Failed',
      'Cancelled',
    ]);
    expect(item('q').textContent).toContain('Waiting for a slot on the studio key (3rd in line)');
    expect(item('s').textContent).toContain('Sending to fal');
    expect(item('trouble').textContent).toContain('fal is unavailable (503), trying again: attempt 3, next in 8 s');
    expect(item('trouble').textContent).not.toContain('Sending to fal');
    expect(within(item('r')).getByTestId('elapsed').textContent).toMatch(/^1:0[5-6]$/);
    expect(within(item('r')).getByRole('list', { name: 'Latest log lines' }).textContent).toBe('step 1/4');
    expect(item('st').textContent).toContain('Saving the results');

    const completed = item('c');
    expect(within(completed).getByRole('img').getAttribute('src')).toBe('/files/img');
    // Never a raw file in a new tab: results open in the app's viewer (when the page has one).
    expect(completed.querySelector('a[href^="/files/"]')).toBeNull();
    const video = completed.querySelector('video');
    expect(video?.getAttribute('src')).toBe('/files/vid');
    expect(video?.hasAttribute('controls')).toBe(true);
    expect(video?.getAttribute('preload')).toBe('metadata');
    expect(completed.querySelector('audio')?.getAttribute('src')).toBe('/files/aud');
    expect(completed.textContent).toContain('took 0:03 · est. $0.03');
    expect(within(completed).queryByRole('button', { name: 'Cancel' })).toBeNull();

    expect(within(item('f')).getByTestId('error-category').textContent).toBe('Blocked by the content checker');
    expect(item('f').textContent).toContain('The content was flagged.');
    expect(within(item('f')).getByRole('button', { name: 'Retry' })).toBeTruthy();
    expect(item('x').textContent).toContain('Cancelled.');

    for (const id of ['q', 's', 'r', 'st']) expect(within(item(id)).getByRole('button', { name: 'Cancel' })).toBeTruthy();
    for (const id of ['c', 'f', 'x']) expect(within(item(id)).queryByRole('button', { name: 'Cancel' })).toBeNull();
  });

  it('ticks the elapsed time and folds the logs', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const logs = Array.from({ length: 9 }, (_, i) => ({ message: `line ${i + 1}`, level: 'INFO', timestamp: '' }));
    renderPanel([job({ id: 'r', status: 'running', startedAt: new Date(Date.now() - 3_000).toISOString(), logs })]);
    const elapsed = await screen.findByTestId('elapsed');
    expect(elapsed.textContent).toBe('0:03');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(2_000);
    });
    expect(elapsed.textContent).toBe('0:05');

    const lines = screen.getByRole('list', { name: 'Latest log lines' });
    expect(within(lines).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['line 4', 'line 5', 'line 6', 'line 7', 'line 8', 'line 9']);
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    await user.click(screen.getByRole('button', { name: 'Hide logs' }));
    expect(screen.queryByRole('list', { name: 'Latest log lines' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Show logs (9)' }).getAttribute('aria-expanded')).toBe('false');
  });

  it('cancels and retries one job, and shows the answers', async () => {
    const failed = job({ id: 'f', groupId: 'g', status: 'failed', error: { category: 'provider_error', message: 'fal broke' }, createdAt: '2026-11-25T10:00:00Z' });
    const running = job({ id: 'r', status: 'running', startedAt: new Date().toISOString() });
    const { calls } = renderPanel([running, failed], {
      'POST /api/jobs/r/cancel': json(200, { job: { ...running, status: 'cancelled' } }),
      'POST /api/jobs/f/retry': json(202, { job: job({ id: 'f2', groupId: 'g', status: 'queued', createdAt: '2026-11-25T10:01:00Z' }) }),
    });
    const user = userEvent.setup();
    await user.click(within(await waitFor(() => item('r'))).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(within(item('r')).getByTestId('job-status').textContent).toBe('Cancelled'));

    await user.click(within(item('f')).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(item('f2')).toBeTruthy());
    const group = document.querySelector<HTMLElement>('[data-group-id="g"]');
    if (group === null) throw new Error('no group g');
    expect(group.getAttribute('aria-label')).toBe('Seedream 4.0 · a red fox');
    expect(within(group).getAllByRole('listitem').map((li) => li.getAttribute('data-job-id'))).toEqual(['f', 'f2']);
    expect(calls.map((c) => c.key)).toEqual(['GET /api/jobs', 'POST /api/jobs/r/cancel', 'POST /api/jobs/f/retry']);
  });

  it('groups jobs, renames a group, cancels all, hides a finished group and clears finished jobs', async () => {
    const a1 = job({ id: 'a1', groupId: 'A', status: 'running', createdAt: '2026-11-25T10:05:00Z', startedAt: '2026-11-25T10:05:01Z' });
    const a2 = job({ id: 'a2', groupId: 'A', status: 'queued', createdAt: '2026-11-25T10:05:00.5Z' });
    const b1 = job({ id: 'b1', groupId: 'B', groupLabel: 'Foxes', status: 'completed', createdAt: '2026-11-25T10:00:00Z' });
    const c1 = job({ id: 'c1', groupId: 'C', status: 'failed', createdAt: '2026-11-25T09:00:00Z', error: { category: 'network', message: 'gone' } });
    const { calls } = renderPanel([a1, a2, b1, c1], {
      'PATCH /api/groups/A': json(200, { groupId: 'A', label: 'Two foxes' }),
      'POST /api/groups/A/cancel': json(200, { jobs: [{ ...a1, status: 'cancelled' }, { ...a2, status: 'cancelled' }] }),
      'POST /api/jobs/clear-finished': (call) => json(200, { hidden: call.body === undefined ? 2 : 1 }),
    });
    const user = userEvent.setup();
    const groups = await waitFor(() => {
      const found = [...document.querySelectorAll<HTMLElement>('.job-group')];
      if (found.length === 0) throw new Error('no groups yet');
      return found;
    });
    expect(groups.map((g) => g.getAttribute('aria-label'))).toEqual(['Seedream 4.0 · a red fox', 'Foxes', 'Seedream 4.0 · a red fox']);
    const first = groups[0] as HTMLElement;
    expect(within(first).queryByRole('button', { name: 'Hide' })).toBeNull();

    await user.click(within(first).getByRole('button', { name: /^Rename/ }));
    const input = within(first).getByRole('textbox', { name: 'Group label' });
    await user.clear(input);
    await user.type(input, 'Two foxes{Enter}');
    await screen.findByRole('region', { name: 'Two foxes' });
    expect(calls.find((c) => c.key === 'PATCH /api/groups/A')?.body).toEqual({ label: 'Two foxes' });

    const renamed = screen.getByRole('region', { name: 'Two foxes' });
    await user.click(within(renamed).getByRole('button', { name: 'Cancel all' }));
    await waitFor(() => expect(within(renamed).getAllByTestId('job-status').map((s) => s.textContent)).toEqual(['Cancelled', 'Cancelled']));

    await user.click(within(screen.getByRole('region', { name: 'Foxes' })).getByRole('button', { name: 'Hide' }));
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Foxes' })).toBeNull());
    expect(calls.find((c) => c.key === 'POST /api/jobs/clear-finished')?.body).toEqual({ groupId: 'B' });

    // "Clear finished" asks first, and keeps the failed job unless asked to clear it too.
    await user.click(screen.getByRole('button', { name: 'Clear finished' }));
    let confirm = await screen.findByRole('dialog', { name: 'Clear finished jobs?' });
    expect(confirm.textContent).toContain('This takes 2 finished jobs out of the queue; their results stay in the gallery.');
    expect(within(confirm).getByRole('checkbox', { name: 'Also clear 1 failed job' })).toHaveProperty('checked', false);
    expect(confirm.textContent).toContain('Failed jobs stay, so you can read why and retry them.');
    await user.click(within(confirm).getByRole('button', { name: 'Clear' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(screen.queryByRole('region', { name: 'Two foxes' })).toBeNull();
    expect(item('c1')).toBeTruthy();

    await user.click(screen.getByRole('button', { name: 'Clear finished' }));
    confirm = await screen.findByRole('dialog', { name: 'Clear finished jobs?' });
    await user.click(within(confirm).getByRole('checkbox', { name: 'Also clear 1 failed job' }));
    await user.click(within(confirm).getByRole('button', { name: 'Clear' }));
    await waitFor(() => expect(document.querySelectorAll('.job-group')).toHaveLength(0));
    // The server leaves failed jobs out on request; "also failed" is the clear-everything call.
    expect(calls.filter((c) => c.key === 'POST /api/jobs/clear-finished').map((c) => c.body)).toEqual([{ groupId: 'B' }, { includeFailed: false }, undefined]);
    expect(screen.getByText(/Nothing yet/)).toBeTruthy();
  });

  it('says where a job stands in fal’s queue counting from 1, and prefers the server’s words', async () => {
    renderPanel([
      job({ id: 'next', status: 'running', queuePosition: 0 }),
      job({ id: 'third', status: 'running', queuePosition: 2 }),
      job({ id: 'said', status: 'running', queuePosition: 4, waitReason: 'In fal’s queue, position 5' }),
    ]);
    await waitFor(() => expect(item('next')).toBeTruthy());
    expect(item('next').textContent).toContain('In fal’s queue, next in line.');
    expect(item('next').textContent).not.toContain('position 0');
    expect(item('third').textContent).toContain('In fal’s queue, position 3.');
    expect(item('said').textContent).toContain('In fal’s queue, position 5');
    expect(item('said').textContent).not.toContain('position 4');
  });

  it('tells files deleted from the gallery from a job fal returned nothing for', async () => {
    const done = { status: 'completed' as const, createdAt: '2026-11-25T10:00:00Z' };
    renderPanel([
      job({ id: 'gone', ...done, assets: [], outputCount: 2 }),
      job({ id: 'some', ...done, assets: [asset({ id: 'kept' })], outputCount: 3 }),
      job({ id: 'all', ...done, assets: [asset({ id: 'a1' }), asset({ id: 'a2' })], outputCount: 2 }),
      job({ id: 'empty', ...done, assets: [], outputCount: 0 }),
      job({ id: 'old', ...done, assets: [], outputCount: null }),
    ]);
    await waitFor(() => expect(item('gone')).toBeTruthy());
    const note = (id: string) => within(item(id)).queryByTestId('files-note')?.textContent ?? null;
    expect(note('gone')).toBe('Its 2 files were deleted from the gallery.');
    expect(item('gone').textContent).not.toContain('fal returned no files');
    expect(item('gone').querySelector('img, video, audio')).toBeNull();
    expect(note('some')).toBe('2 of 3 files deleted from the gallery.');
    expect(within(item('some')).getByRole('img').getAttribute('src')).toBe('/files/kept');
    expect(note('all')).toBeNull();
    expect(note('empty')).toBe('fal returned no files.');
    expect(note('old')).toBe('fal returned no files.');
  });

  it('numbers runs of one model, but not the different models of a compare', async () => {
    const at = (s: number) => `2026-11-25T10:00:0${s}Z`;
    renderPanel([
      job({ id: 'tts', groupId: 'cmp', endpointId: 'fal-ai/elevenlabs/tts', modelName: 'ElevenLabs TTS', createdAt: at(1) }),
      job({ id: 'seed', groupId: 'cmp', createdAt: at(2) }),
      job({ id: 'veo', groupId: 'cmp', endpointId: 'fal-ai/veo3', modelName: 'Veo 3', createdAt: at(3) }),
      job({ id: 'r1', groupId: 'runs', createdAt: at(4) }),
      job({ id: 'r2', groupId: 'runs', createdAt: at(5) }),
    ]);
    await waitFor(() => expect(item('tts')).toBeTruthy());
    const model = (id: string) => item(id).querySelector('.job-model')?.textContent;
    expect(['tts', 'seed', 'veo'].map(model)).toEqual(['ElevenLabs TTS', 'Seedream 4.0', 'Veo 3']);
    expect(['r1', 'r2'].map(model)).toEqual(['Seedream 4.0 #1', 'Seedream 4.0 #2']);
  });

  describe('a key fal turned down', () => {
    const rejected = job({
      id: 'k',
      status: 'failed',
      error: { category: 'invalid_key', message: 'Invalid API key provided', details: { error: { type: 'authorization_error' } } },
    });
    const budget = (keySource: 'own' | 'studio' | 'none') =>
      json(200, { keySource, budgetMonthlyUsd: null, spentMonthUsd: 0, reservedUsd: 0, remainingUsd: null, resetsAt: '2027-01-01T00:00:00Z', warning: false });
    const me = (role: 'admin' | 'member') =>
      json(200, { user: { id: 'u1', email: 'ada@example.com', hasFalKey: false, role, mayUseStudioKey: true } });

    async function card() {
      await waitFor(() => expect(within(item('k')).getByTestId('key-rejected')).toBeTruthy());
      return within(item('k')).getByTestId('key-rejected');
    }

    it('says so in a sentence with a link to Settings, fal’s words folded away', async () => {
      renderPanel([rejected], { 'GET /api/account/budget': budget('own') });
      const failure = await card();
      await waitFor(() =>
        expect(failure.querySelector('.job-error')?.textContent).toBe('The fal key this job used was not accepted. Replace your fal key in Settings, then retry.'),
      );
      const link = within(failure).getByRole('link', { name: 'Settings' });
      expect(link.getAttribute('href')).toBe('/settings');
      // Not the raw badge and message as the headline: fal's text is one click away.
      expect(within(item('k')).queryByTestId('error-category')).toBeNull();
      const details = failure.querySelector('details');
      expect(details?.open).toBe(false);
      expect(details?.querySelector('summary')?.textContent).toBe('Full message');
      expect(details?.textContent).toContain('Invalid API key provided');
      expect(within(item('k')).getByRole('button', { name: 'Retry' })).toBeTruthy();
    });

    it('on the studio key, a member is told to ask the admin; the admin where to replace it', async () => {
      renderPanel([rejected], { 'GET /api/account/budget': budget('studio'), 'GET /api/auth/me': me('member') });
      let failure = await card();
      await waitFor(() => expect(failure.textContent).toContain('Your jobs run on the studio key: ask your admin to replace it, or add your own fal key in Settings.'));
      cleanup();

      renderPanel([rejected], { 'GET /api/account/budget': budget('studio'), 'GET /api/auth/me': me('admin') });
      failure = await card();
      await waitFor(() => expect(failure.textContent).toContain('Your jobs run on the studio key: replace it in Admin, then retry.'));
      expect(within(failure).getByRole('link', { name: 'Admin' }).getAttribute('href')).toBe('/admin');
      expect(failure.textContent).not.toContain('ask your admin');
    });

    it('without a key, or while it cannot tell which key, points to Settings and never to an admin', async () => {
      renderPanel([rejected], { 'GET /api/account/budget': budget('none') });
      let failure = await card();
      await waitFor(() => expect(failure.textContent).toContain('Add a fal key that works in Settings, then retry.'));
      cleanup();

      renderPanel([rejected], { 'GET /api/account/budget': apiError(500, 'internal', 'boom') });
      failure = await card();
      await waitFor(() => expect(failure.textContent).toContain('Replace it in Settings, then retry.'));
      expect(failure.textContent).not.toContain('admin');
    });
  });

  it('with a server that takes includeFailed, clears in one call and keeps the failed jobs', async () => {
    const jobs = [
      job({ id: 'done', groupId: 'A', status: 'completed', createdAt: '2026-11-25T10:02:00Z' }),
      job({ id: 'broke', groupId: 'A', status: 'failed', createdAt: '2026-11-25T10:01:00Z', error: { category: 'network', message: 'gone' } }),
      job({ id: 'busy', groupId: 'B', status: 'running', createdAt: '2026-11-25T10:00:00Z' }),
    ];
    const { calls } = stubServer({ 'GET /api/jobs': json(200, { jobs }), 'POST /api/jobs/clear-finished': json(200, { hidden: 1 }) });
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
    const { result } = renderHook(() => ({ clear: useClearAllFinished(), jobs: useJobs() }), { wrapper });
    await waitFor(() => expect(result.current.jobs.data).toHaveLength(3));
    act(() => result.current.clear.mutate({ includeFailed: false }));
    await waitFor(() => expect(result.current.clear.isSuccess).toBe(true));
    expect(calls.filter((c) => c.key === 'POST /api/jobs/clear-finished').map((c) => c.body)).toEqual([{ includeFailed: false }]);
    expect(result.current.jobs.data?.map((j) => j.id)).toEqual(['broke', 'busy']);
  });
});
