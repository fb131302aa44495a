// @vitest-environment happy-dom
import { cleanup, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EstimateResponse, MyBudget, Spec } from '../../api/types';
import { apiError, json, renderWithProviders, stubServer, type Call } from '../../test/harness';
import { CompareMode, modelCost, totalLine, type CompareRun } from './CompareMode';
import { initialDraft, type Draft } from './formValues';
import type { Submit } from './jobsApi';
import { seedreamT2I } from './test/specs';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const tts: Spec = {
  endpointId: 'fal-ai/elevenlabs/tts',
  displayName: 'ElevenLabs TTS',
  category: 'text-to-speech',
  outputKind: 'audio',
  promptField: 'text',
  fields: [{ name: 'text', type: 'text', required: true, title: 'Text', group: 'main' }],
};
const veo: Spec = {
  endpointId: 'fal-ai/veo3',
  displayName: 'Veo 3',
  category: 'text-to-video',
  outputKind: 'video',
  fields: [{ name: 'prompt', type: 'text', required: true, title: 'Prompt', group: 'main' }],
};
const specs = [seedreamT2I, tts, veo];

const priced = (totalCost: number, unit: string, unitQuantity = 1): EstimateResponse => ({
  estimate: { totalCost, currency: 'USD', unit, unitQuantity, unitPrice: totalCost / unitQuantity },
  reason: null,
});

function renderCompare(ids: string[], estimates: Record<string, (call: Call) => Response>, budget: MyBudget | null = null) {
  const server = stubServer({
    'GET /api/models/spec': (call) => json(200, specs.find((s) => s.endpointId === new URLSearchParams(call.search ?? '').get('endpoint'))),
    'GET /api/jobs': json(200, { jobs: [] }),
    'POST /api/models/estimate': (call) => {
      const { endpoint } = call.body as { endpoint: string };
      const answer = estimates[endpoint];
      if (answer === undefined) throw new Error(`no estimate for ${endpoint}`);
      return answer(call);
    },
  });
  const onGenerate = vi.fn<Submit>(() => new Promise(() => undefined));
  function Harness() {
    const [drafts, setDrafts] = useState<Record<string, Draft>>({});
    const [run, setRun] = useState<CompareRun | null>(null);
    return (
      <CompareMode
        ids={ids}
        names={{}}
        onRemove={() => undefined}
        draftFor={(spec) => drafts[spec.endpointId] ?? initialDraft(spec.fields)}
        onDraftChange={(endpointId, draft) => setDrafts((prev) => ({ ...prev, [endpointId]: draft }))}
        keyUse={{ source: budget?.keySource ?? 'own', noKeyReason: '', budget }}
        onGenerate={onGenerate}
        run={run}
        onRun={setRun}
      />
    );
  }
  renderWithProviders(<Harness />);
  return server;
}

async function typePrompt(text: string) {
  const form = await screen.findByRole('form', { name: 'Compare settings' });
  await userEvent.setup().type(within(form).getByRole('textbox', { name: /^Prompt/ }), text);
  return form;
}

const note = (form: HTMLElement, endpointId: string) => {
  const found = within(form).getByRole('list', { name: 'What each model gets' }).querySelector<HTMLElement>(`[data-endpoint="${endpointId}"]`);
  if (found === null) throw new Error(`no note for ${endpointId}`);
  return found;
};

describe('compare estimates', () => {
  it('estimates each model with its own params, debounced, and totals them beside Compare', async () => {
    const { calls } = renderCompare([seedreamT2I.endpointId, tts.endpointId], {
      [seedreamT2I.endpointId]: () => json(200, priced(0.03, 'image')),
      [tts.endpointId]: () => json(200, priced(0.06, '1k characters', 1)),
    });
    const form = await screen.findByRole('form', { name: 'Compare settings' });
    const total = within(form).getByTestId('compare-total');
    expect(total.getAttribute('aria-live')).toBe('polite');
    expect(total.textContent).toBe('Complete the form to see an estimated total.');
    expect(within(form).queryAllByTestId('model-estimate')).toHaveLength(0);

    await typePrompt('a red fox');
    await waitFor(() => expect(total.textContent).toBe('Estimated total: $0.09'));
    expect(within(note(form, seedreamT2I.endpointId)).getByTestId('model-estimate').textContent).toBe(' Estimated $0.03 per run (1 image).');
    expect(within(note(form, tts.endpointId)).getByTestId('model-estimate').textContent).toBe(' Estimated $0.06 per run (1 × 1k characters).');
    // One question per model once the typing settled, each with the params that model gets.
    const asked = calls.filter((c) => c.key === 'POST /api/models/estimate').map((c) => c.body);
    expect(asked).toHaveLength(2);
    expect(asked).toContainEqual({ endpoint: tts.endpointId, params: { text: 'a red fox' } });
    expect(asked).toContainEqual({
      endpoint: seedreamT2I.endpointId,
      params: { prompt: 'a red fox', image_size: { width: 2048, height: 2048 }, num_images: 1 },
    });
  });

  it('says "at least" when a model has no estimate, and which one, in its own line only', async () => {
    renderCompare([seedreamT2I.endpointId, tts.endpointId, veo.endpointId], {
      [seedreamT2I.endpointId]: () => json(200, priced(0.03, 'image')),
      [tts.endpointId]: () => json(200, priced(0.03, 'image')),
      [veo.endpointId]: () => json(200, { estimate: null, reason: 'fal publishes no price for this model.' }),
    });
    const form = await typePrompt('a red fox');
    const total = within(form).getByTestId('compare-total');
    await waitFor(() => expect(total.textContent).toBe('Estimated total: at least $0.06; Veo 3 has no estimate.'));
    expect(within(note(form, veo.endpointId)).getByTestId('model-estimate').textContent).toBe(' fal publishes no price for this model.');
    expect(within(note(form, seedreamT2I.endpointId)).getByTestId('model-estimate').textContent).toBe(' Estimated $0.03 per run (1 image).');
  });

  it('keeps a failed estimate to its model’s line, and the total to the others', async () => {
    renderCompare([seedreamT2I.endpointId, veo.endpointId], {
      [seedreamT2I.endpointId]: () => json(200, priced(0.03, 'image')),
      [veo.endpointId]: () => apiError(502, 'provider_error', 'fal is unavailable.'),
    });
    const form = await typePrompt('a red fox');
    const total = within(form).getByTestId('compare-total');
    await waitFor(() => expect(total.textContent).toBe('Estimated total: at least $0.03; Veo 3 could not be estimated.'));
    const failed = within(note(form, veo.endpointId)).getByTestId('model-estimate');
    expect(failed.textContent).toBe(' No estimate: fal is unavailable.');
    expect(failed.classList.contains('field-error')).toBe(true);
    expect(note(form, seedreamT2I.endpointId).textContent).not.toContain('fal is unavailable');
  });
});

describe('totalLine', () => {
  const cost = (totalCost: number) => ({ kind: 'cost' as const, totalCost, currency: 'USD', text: '' });
  it('adds the priced models, names the others, and waits for all', () => {
    expect(totalLine([{ name: 'A', cost: cost(0.04) }, { name: 'B', cost: cost(0.05) }])).toBe('Estimated total: $0.09');
    expect(totalLine([{ name: 'A', cost: cost(0.04) }, { name: 'B', cost: { kind: 'waiting', text: '' } }])).toBe('Estimating the total…');
    expect(
      totalLine([
        { name: 'A', cost: { kind: 'none', text: '' } },
        { name: 'B', cost: { kind: 'none', text: '' } },
        { name: 'C', cost: { kind: 'unset', text: '' } },
      ]),
    ).toBe('No estimated total: A and B have no estimate; C needs settings this form does not set.');
  });

  it('reads a query the way a person does', () => {
    const query = { isPending: false, isError: false, error: null, data: priced(0.28, 'seconds', 8) };
    expect(modelCost(query, true)).toMatchObject({ kind: 'cost', text: 'Estimated $0.28 per run (8 seconds).' });
    expect(modelCost(query, false).kind).toBe('waiting');
  });
});

describe('compare and the budget', () => {
  it('holds Compare back, saying why, once the monthly budget is used up', async () => {
    renderCompare(
      [seedreamT2I.endpointId, tts.endpointId],
      {
        [seedreamT2I.endpointId]: () => json(200, priced(0.03, 'image')),
        [tts.endpointId]: () => json(200, priced(0.06, '1k characters', 1)),
      },
      {
        keySource: 'studio',
        budgetMonthlyUsd: 5,
        spentMonthUsd: 8.5,
        reservedUsd: 0,
        remainingUsd: 0,
        resetsAt: '2027-01-01T00:00:00Z',
        warning: true,
      },
    );
    const form = await typePrompt('a red fox');
    const button = within(form).getByRole('button', { name: /^Compare 2 models/ });
    expect((button as HTMLButtonElement).disabled).toBe(true);
    expect(within(form).getByTestId('generate-reason').textContent).toMatch(/^Your monthly budget is used up/);
    // Said once: the note beside the button leaves it to the reason.
    expect(within(form).queryByTestId('budget-warning')).toBeNull();
  });
});
