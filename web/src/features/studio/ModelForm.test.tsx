// @vitest-environment happy-dom
import { cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MyBudget, Spec } from '../../api/types';
import { json, renderWithProviders, stubServer } from '../../test/harness';
import { initialDraft, type Draft } from './formValues';
import type { Submit } from './jobsApi';
import type { KeyUse } from './keyUse';
import { ModelForm } from './ModelForm';
import { seedreamT2I } from './test/specs';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** ElevenLabs as fal prices it: per 1,000 characters of the text. */
const tts: Spec = {
  endpointId: 'fal-ai/elevenlabs/tts/multilingual-v2',
  displayName: 'ElevenLabs TTS Multilingual v2',
  category: 'text-to-speech',
  outputKind: 'audio',
  promptField: 'text',
  fields: [{ name: 'text', type: 'text', required: true, title: 'Text', group: 'main' }],
  buckets: {},
  price: { unitPrice: 0.1, unit: '1000 characters', currency: 'USD' },
};

const perImage = (totalCost: number) =>
  json(200, { estimate: { totalCost, currency: 'USD', unit: 'image', unitQuantity: 1, unitPrice: totalCost }, reason: null });

const budget = (extra: Partial<MyBudget>): MyBudget => ({
  keySource: 'studio',
  budgetMonthlyUsd: 5,
  spentMonthUsd: 0,
  reservedUsd: 0,
  remainingUsd: 5,
  resetsAt: '2027-01-01T00:00:00Z',
  warning: false,
  ...extra,
});

function Form({ spec, keyUse, onGenerate }: { spec: Spec; keyUse: KeyUse; onGenerate: Submit }) {
  const [draft, setDraft] = useState<Draft>(() => initialDraft(spec.fields));
  return (
    <ModelForm
      spec={spec}
      model={null}
      draft={draft}
      onDraftChange={setDraft}
      uploads={{}}
      onAddFiles={() => undefined}
      onRemoveFile={() => undefined}
      keyUse={keyUse}
      onGenerate={onGenerate}
    />
  );
}

function renderForm(spec: Spec, myBudget: MyBudget | null = null) {
  const onGenerate = vi.fn<Submit>(() => new Promise(() => undefined));
  const keyUse: KeyUse = { source: myBudget?.keySource ?? 'own', noKeyReason: 'No key.', budget: myBudget };
  renderWithProviders(<Form spec={spec} keyUse={keyUse} onGenerate={onGenerate} />);
  return { onGenerate, user: userEvent.setup() };
}

const estimate = () => screen.getByTestId('estimate').textContent;
const generate = () => screen.getByRole('button', { name: /^Generate/ }) as HTMLButtonElement;
const reason = () => screen.queryByTestId('generate-reason')?.textContent ?? null;

async function setRuns(user: ReturnType<typeof userEvent.setup>, runs: string) {
  const input = screen.getByRole('spinbutton', { name: 'Runs' });
  await user.clear(input);
  if (runs !== '') await user.type(input, runs);
}

describe('ModelForm: the estimate', () => {
  it('shows none while Runs is not a count from 1 to 8', async () => {
    stubServer({ 'POST /api/models/estimate': perImage(0.03) });
    const { user } = renderForm(seedreamT2I);
    await user.type(screen.getByRole('textbox', { name: /^Prompt/ }), 'a red fox');
    await waitFor(() => expect(estimate()).toBe('Estimated cost: $0.03 (1 image)'));

    for (const runs of ['0', '500', '']) {
      await setRuns(user, runs);
      expect(estimate()).toBe('Choose 1–8 runs to see an estimate.');
      expect(reason()).toBe('Runs: choose from 1 to 8.');
    }
    await setRuns(user, '3');
    expect(estimate()).toBe('Estimated cost: $0.09 (3 runs × $0.03, 1 image each)');
  });

  it('counts speech by the character, and never says $0.00 for a fraction of a cent', async () => {
    const { calls } = stubServer({
      'POST /api/models/estimate': json(200, {
        estimate: { totalCost: 0.005, currency: 'USD', unit: '1000 characters', unitQuantity: 0.05, unitPrice: 0.1 },
        reason: null,
      }),
    });
    const { user } = renderForm(tts);
    await user.type(screen.getByRole('textbox', { name: /^Text/ }), 'x'.repeat(50));
    await waitFor(() => expect(estimate()).toBe('Estimated cost: under $0.01 (50 characters at $0.10 per 1,000 characters)'));
    expect(calls.filter((call) => call.key === 'POST /api/models/estimate')).toHaveLength(1);
    expect(screen.getByTestId('unit-price').textContent).toBe('$0.10 per 1,000 characters');

    await setRuns(user, '4');
    expect(estimate()).toBe('Estimated cost: $0.02 (4 runs, each 50 characters at $0.10 per 1,000 characters)');
  });
});

describe('ModelForm: the budget', () => {
  it('turns Generate off when the estimate is more than what is left, and says so', async () => {
    stubServer({ 'POST /api/models/estimate': perImage(0.03) });
    const { user, onGenerate } = renderForm(seedreamT2I, budget({ budgetMonthlyUsd: 0.05, spentMonthUsd: 0, remainingUsd: 0.05 }));
    await user.type(screen.getByRole('textbox', { name: /^Prompt/ }), 'a red fox');
    await waitFor(() => expect(estimate()).toBe('Estimated cost: $0.03 (1 image)'));
    expect(generate().disabled).toBe(false);

    await setRuns(user, '2');
    expect(reason()).toBe(
      'This generation is estimated at $0.06, more than the $0.05 left of your monthly budget until Jan 1, 2027. Choose fewer runs or outputs.',
    );
    expect(generate().disabled).toBe(true);
    expect(generate().getAttribute('aria-describedby')).toBe(screen.getByTestId('generate-reason').id);
    await user.click(generate());
    expect(onGenerate).not.toHaveBeenCalled();

    await setRuns(user, '1');
    expect(reason()).toBeNull();
    await user.click(generate());
    expect(onGenerate).toHaveBeenCalledTimes(1);
  });

  it('says the budget is used up, with the real amounts, and keeps Generate off from the start', async () => {
    stubServer({ 'POST /api/models/estimate': perImage(0.03) });
    // 170 % spent: the server says nothing is left.
    renderForm(seedreamT2I, budget({ budgetMonthlyUsd: 5, spentMonthUsd: 8.2, reservedUsd: 0.3, remainingUsd: 0, warning: true }));
    const usedUp = 'Your monthly budget is used up ($8.50 of $5.00) until Jan 1, 2027.';
    // Before anything is typed: no change to the form would help.
    expect(reason()).toBe(usedUp);
    expect(generate().disabled).toBe(true);
    // Said once, as Generate's reason, not again beside it.
    expect(screen.queryByTestId('budget-warning')).toBeNull();
    expect(screen.getByTestId('key-use').textContent).toBe('Runs on the studio key');
  });

  it('warns with the share actually used while there is room', async () => {
    stubServer({ 'POST /api/models/estimate': perImage(0.03) });
    renderForm(seedreamT2I, budget({ budgetMonthlyUsd: 5, spentMonthUsd: 4.3, reservedUsd: 0.2, remainingUsd: 0.5, warning: true }));
    expect(screen.getByTestId('budget-warning').textContent).toBe('90% of your monthly budget is used: $0.50 left until Jan 1, 2027.');
    expect(reason()).toBe('Fill in Prompt to generate.');
  });

  it('a budget of $0 turns Generate off and says who can change it', () => {
    stubServer({ 'POST /api/models/estimate': perImage(0.03) });
    renderForm(seedreamT2I, budget({ budgetMonthlyUsd: 0, remainingUsd: 0, warning: true }));
    expect(reason()).toBe('Your monthly budget is $0.00, so nothing can be generated: ask the studio’s admin to raise it.');
    expect(generate().disabled).toBe(true);
  });
});
