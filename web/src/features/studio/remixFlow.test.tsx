// @vitest-environment happy-dom
import { act, cleanup, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Job, JobReference, Model, User } from '../../api/types';
import { apiError, json, renderWithProviders, stubServer, type Call } from '../../test/harness';
import { QueuePanel } from './QueuePanel';
import { StudioPage } from './StudioPage';
import { MockEventSource } from './test/eventSource';
import { asset, job } from './test/jobs';
import { asModel, kontext, nanoBananaEdit, seedreamT2I } from './test/specs';

const withKey: User = { id: 'u1', email: 'ada@example.com', hasFalKey: true, role: 'member', mayUseStudioKey: false };
const specs = [kontext, nanoBananaEdit, seedreamT2I];

const reference = (extra: Partial<JobReference> = {}): JobReference => ({
  id: 'ref-1',
  field: 'image_url',
  bucket: 'generalReferences',
  url: '/files/references/ref-1',
  contentType: 'image/png',
  fileName: 'fox.png',
  byteSize: 68,
  ...extra,
});

const finished: Job = job({
  id: 'j1',
  endpointId: kontext.endpointId,
  modelName: 'FLUX.1 Kontext [pro]',
  status: 'completed',
  params: { prompt: 'the fox, at night', guidance_scale: 7 },
  references: [reference()],
  assets: [asset({ id: 'out-1', seed: 1234 })],
});

beforeEach(() => {
  MockEventSource.instances = [];
  vi.stubGlobal('EventSource', MockEventSource);
  URL.createObjectURL = vi.fn(() => 'blob:preview');
  URL.revokeObjectURL = vi.fn();
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function server(overrides: Record<string, Response | ((call: Call) => Response)> = {}) {
  return stubServer({
    'GET /api/models': json(200, { models: specs.map((spec): Model => asModel(spec)), nextCursor: null, stale: false }),
    'GET /api/models/spec': (call) => {
      const spec = specs.find((s) => s.endpointId === new URLSearchParams(call.search ?? '').get('endpoint'));
      return spec === undefined ? apiError(404, 'not_found', 'No such model.') : json(200, spec);
    },
    'GET /api/models/favorites': json(200, { models: [] }),
    'GET /api/models/recent': json(200, { models: [] }),
    'POST /api/models/recent': json(200, { models: [] }),
    'POST /api/models/estimate': json(200, { estimate: null, reason: 'No price.' }),
    'GET /api/jobs': json(200, { jobs: [] }),
    'POST /api/generations': apiError(404, 'not_found', 'No route for POST /api/generations.'),
    ...overrides,
  });
}

const seedInput = () => screen.getByRole('spinbutton', { name: /^Seed/ }) as HTMLInputElement;

describe('remix brings everything back', () => {
  it('from a job with the same seed: model, prompt, seed and its reference, sent back by id', async () => {
    const { calls } = server({ 'GET /api/jobs/j1': json(200, { job: finished }) });
    renderWithProviders(<StudioPage user={withKey} />, '/studio?remixJob=j1&seed=same');
    const user = userEvent.setup();
    await screen.findByRole('heading', { name: 'FLUX.1 Kontext [pro]', level: 2 });
    await waitFor(() => expect((screen.getByRole('textbox', { name: /^Prompt/ }) as HTMLTextAreaElement).value).toBe('the fox, at night'));
    const references = screen.getByRole('region', { name: /^References/ });
    expect(within(references).getByText('fox.png')).toBeTruthy();
    expect(within(references).getByText('from the remixed run')).toBeTruthy();
    expect(within(references).getByRole('img', { name: 'Preview of fox.png' }).getAttribute('src')).toBe('/files/references/ref-1');
    expect(screen.getByTestId('upload-notice').textContent).toContain('1 reference back in place');
    expect(screen.getByTestId('upload-notice').textContent).toContain('Same seed: 1234.');

    await user.click(screen.getByText('Advanced'));
    await waitFor(() => expect(seedInput().value).toBe('1234'));
    await user.click(screen.getByRole('button', { name: 'Generate' }));
    await screen.findByRole('alert');
    const form = calls.find((c) => c.key === 'POST /api/generations')?.form;
    expect(form?.get('storedReference:generalReferences')).toBe('ref-1');
    expect(JSON.parse(String(form?.get('params')))).toMatchObject({ prompt: 'the fox, at night', guidance_scale: 7, seed: 1234 });
  });

  it('from a gallery item, by default with a new seed: the seed field is left empty', async () => {
    const detail = {
      ...asset({ id: 'g1', endpointId: kontext.endpointId, seed: 1234, params: { prompt: 'a red fox', seed: 9 } }),
      job: null,
      references: [reference({ id: 'ref-7', fileName: 'cat.png' })],
    };
    const { calls } = server({ 'GET /api/assets/g1': json(200, { asset: detail }) });
    renderWithProviders(<StudioPage user={withKey} />, '/studio?remix=g1');
    const user = userEvent.setup();
    await within(await screen.findByRole('region', { name: /^References/ })).findByText('cat.png');
    expect(screen.getByTestId('upload-notice').textContent).toContain('New seed: fal picks one.');
    await user.click(screen.getByText('Advanced'));
    expect(seedInput().value).toBe('');
    await user.click(screen.getByRole('button', { name: 'Generate' }));
    await screen.findByRole('alert');
    const form = calls.find((c) => c.key === 'POST /api/generations')?.form;
    expect(form?.get('storedReference:generalReferences')).toBe('ref-7');
    expect(JSON.parse(String(form?.get('params'))).seed).toBeUndefined();
  });
});

describe('the queue’s remix, run again and request', () => {
  const item = (id: string) => {
    const found = document.querySelector<HTMLElement>(`[data-job-id="${id}"]`);
    if (found === null) throw new Error(`no job ${id}`);
    return found;
  };

  it('runs a cancelled job again as it was, its references sent by id', async () => {
    const cancelled = job({ id: 'x', status: 'cancelled', endpointId: kontext.endpointId, params: { prompt: 'p' }, references: [reference()] });
    const { calls } = server({
      'GET /api/jobs': json(200, { jobs: [cancelled] }),
      'POST /api/generations': json(202, { job: { ...cancelled, id: 'x2', status: 'queued' }, jobs: [{ ...cancelled, id: 'x2', status: 'queued' }] }),
    });
    renderWithProviders(<QueuePanel live="live" />);
    const user = userEvent.setup();
    await waitFor(() => expect(item('x')).toBeTruthy());
    expect(within(item('x')).getByRole('link', { name: 'Remix' }).getAttribute('href')).toBe('/studio?remixJob=x');
    // Nothing answered for the cancelled job: no seed is known, so only one remix.
    expect(within(item('x')).queryByRole('link', { name: 'Remix with same seed' })).toBeNull();
    await user.click(within(item('x')).getByRole('button', { name: 'Run again' }));
    await waitFor(() => expect(item('x2')).toBeTruthy());
    const form = calls.find((c) => c.key === 'POST /api/generations')?.form;
    expect(form?.get('endpoint')).toBe(kontext.endpointId);
    expect(form?.get('params')).toBe('{"prompt":"p"}');
    expect(form?.get('storedReference:generalReferences')).toBe('ref-1');
  });

  it('offers the same seed for a job fal answered with one, and shows its request as JSON, JavaScript and Python', async () => {
    server({ 'GET /api/jobs': json(200, { jobs: [finished] }) });
    renderWithProviders(<QueuePanel live="live" />);
    const user = userEvent.setup();
    await waitFor(() => expect(item('j1')).toBeTruthy());
    expect(within(item('j1')).getByRole('link', { name: 'Remix with same seed' }).getAttribute('href')).toBe('/studio?remixJob=j1&seed=same');
    expect(within(item('j1')).queryByRole('button', { name: 'Run again' })).toBeNull();

    const toggle = within(item('j1')).getByRole('button', { name: 'Request' });
    await user.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    const request = within(item('j1')).getByRole('region', { name: /^Request sent to fal/ });
    const panel = within(request).getByRole('tabpanel');
    const sent = JSON.parse((within(panel).getByLabelText('JSON request') as HTMLTextAreaElement).value) as Record<string, unknown>;
    expect(sent).toEqual({ prompt: 'the fox, at night', guidance_scale: 7, image_url: `${window.location.origin}/files/references/ref-1` });

    const writeText = vi.fn(() => Promise.resolve());
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    await user.click(within(request).getByRole('tab', { name: 'Python' }));
    expect(within(request).getByRole('tab', { name: 'Python' }).getAttribute('aria-selected')).toBe('true');
    expect((within(panel).getByLabelText('Python request') as HTMLTextAreaElement).value).toContain(`fal_client.subscribe(\n    "${kontext.endpointId}"`);
    await user.click(within(request).getByRole('button', { name: 'Copy' }));
    expect(writeText).toHaveBeenCalledWith(expect.stringContaining('import fal_client'));
    await within(request).findByText('Copied to the clipboard.');

    // Arrow keys move between the tabs.
    act(() => within(request).getByRole('tab', { name: 'Python' }).focus());
    await user.keyboard('{ArrowLeft}');
    expect(document.activeElement?.textContent).toBe('JavaScript');
    expect((within(panel).getByLabelText('JavaScript request') as HTMLTextAreaElement).value).toContain('await fal.subscribe(');
  });
});
