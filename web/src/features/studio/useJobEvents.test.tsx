// @vitest-environment happy-dom
import { act, cleanup, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '../../api/types';
import { json, renderWithProviders, stubServer, type Call } from '../../test/harness';
import { QueuePanel } from './QueuePanel';
import { MockEventSource } from './test/eventSource';
import { asset, job } from './test/jobs';
import { jobFromEvent, useJobEvents } from './useJobEvents';

function LiveQueue({ pollMs = 30, reconnectMs = 60 }: { pollMs?: number; reconnectMs?: number }) {
  const live = useJobEvents({ pollMs, reconnectMs });
  return <QueuePanel live={live} />;
}

beforeEach(() => {
  MockEventSource.instances = [];
  vi.stubGlobal('EventSource', MockEventSource);
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const statusOf = (id: string) =>
  document.querySelector(`[data-job-id="${id}"] [data-testid="job-status"]`)?.textContent ?? null;
const jobGets = (calls: Call[], search?: string) => calls.filter((c) => c.key === 'GET /api/jobs' && c.search === search).length;

describe('useJobEvents', () => {
  it('opens the stream with credentials and replaces a job on a `job` event', async () => {
    const queued = job({ id: 'a', status: 'queued' });
    stubServer({ 'GET /api/jobs': json(200, { jobs: [queued] }) });
    renderWithProviders(<LiveQueue />);
    await waitFor(() => expect(statusOf('a')).toBe('Queued'));
    const source = MockEventSource.latest();
    expect(source.url).toBe('/api/events');
    expect(source.withCredentials).toBe(true);

    act(() => source.open());
    expect(screen.getByTestId('live-state').textContent).toBe('Live');
    act(() => source.emit('job', { ...queued, status: 'running', startedAt: new Date().toISOString() }));
    await waitFor(() => expect(statusOf('a')).toBe('Running'));
    act(() => source.emit('job', { ...queued, status: 'completed', assets: [asset({ id: 'img' })] }));
    await waitFor(() => expect(statusOf('a')).toBe('Completed'));
    expect(document.querySelector('[data-job-id="a"] img')?.getAttribute('src')).toBe('/files/img');
    // A job the list did not have yet (started in another tab) appears.
    act(() => source.emit('job', job({ id: 'b', status: 'queued', createdAt: '2026-11-26T00:00:00Z' })));
    await waitFor(() => expect(statusOf('b')).toBe('Queued'));
    // A hidden job leaves.
    act(() => source.emit('job', { ...queued, status: 'completed', hidden: true }));
    await waitFor(() => expect(statusOf('a')).toBeNull());
  });

  it('refetches the list on `resync`', async () => {
    let jobs: Job[] = [job({ id: 'a' })];
    const { calls } = stubServer({ 'GET /api/jobs': () => json(200, { jobs }) });
    renderWithProviders(<LiveQueue />);
    await waitFor(() => expect(statusOf('a')).toBe('Queued'));
    const before = jobGets(calls, '?limit=50');
    jobs = [job({ id: 'a', status: 'failed', error: { category: 'policy', message: 'no' } }), job({ id: 'z', createdAt: '2026-11-20T00:00:00Z' })];
    act(() => MockEventSource.latest().emit('resync', ''));
    await waitFor(() => expect(statusOf('a')).toBe('Failed'));
    expect(statusOf('z')).toBe('Queued');
    expect(jobGets(calls, '?limit=50')).toBe(before + 1);
  });

  it('refetches the list every interval while the stream is down, and stops when it is back', async () => {
    let all: Job[] = [job({ id: 'a', status: 'running', startedAt: new Date().toISOString() })];
    const { calls } = stubServer({ 'GET /api/jobs': () => json(200, { jobs: all }) });
    renderWithProviders(<LiveQueue pollMs={30} />);
    await waitFor(() => expect(statusOf('a')).toBe('Running'));
    const source = MockEventSource.latest();
    act(() => source.open());

    const beforeOutage = jobGets(calls, '?limit=50');
    act(() => source.fail());
    expect(screen.getByTestId('live-state').textContent).toMatch(/Reconnecting/);
    await waitFor(() => expect(jobGets(calls, '?limit=50')).toBeGreaterThanOrEqual(beforeOutage + 3));

    // A poll shows a new job, and that the running one finished.
    all = [job({ id: 'n', status: 'queued', createdAt: '2026-11-26T00:00:00Z' }), { ...(all[0] as Job), status: 'completed' }];
    await waitFor(() => expect(statusOf('n')).toBe('Queued'));
    await waitFor(() => expect(statusOf('a')).toBe('Completed'));

    const fullBefore = jobGets(calls, '?limit=50');
    act(() => source.open());
    expect(screen.getByTestId('live-state').textContent).toBe('Live');
    // Events may have been missed while it was down: the list is fetched once more, then no more.
    await waitFor(() => expect(jobGets(calls, '?limit=50')).toBe(fullBefore + 1));
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(jobGets(calls, '?limit=50')).toBe(fullBefore + 1);
  });

  it('opens a new stream when the browser gives up on one, polling meanwhile', async () => {
    const { calls } = stubServer({ 'GET /api/jobs': json(200, { jobs: [] }) });
    renderWithProviders(<LiveQueue pollMs={30} reconnectMs={60} />);
    await screen.findByText(/Nothing yet/);
    const first = MockEventSource.latest();
    act(() => first.fail(true));
    expect(first.closed).toBe(true);
    const before = jobGets(calls, '?limit=50');
    await waitFor(() => expect(MockEventSource.instances).toHaveLength(2));
    expect(jobGets(calls, '?limit=50')).toBeGreaterThan(before);
    act(() => MockEventSource.latest().open());
    expect(screen.getByTestId('live-state').textContent).toBe('Live');
  });

  it('closes the stream on unmount', async () => {
    stubServer({ 'GET /api/jobs': json(200, { jobs: [] }) });
    const view = renderWithProviders(<LiveQueue />);
    await screen.findByText(/Nothing yet/);
    view.unmount();
    expect(MockEventSource.latest().closed).toBe(true);
  });
});

describe('jobFromEvent', () => {
  it.each([
    ['a job', JSON.stringify({ id: 'a', status: 'queued' }), 'a'],
    ['a wrapped job (never sent)', JSON.stringify({ job: { id: 'b' } }), null],
    ['not JSON', 'ping', null],
    ['no id', JSON.stringify({ status: 'queued' }), null],
  ])('%s', (_case, data, id) => {
    expect(jobFromEvent(data)?.id ?? null).toBe(id);
  });
});

