import { useId, useState, type FormEvent } from 'react';
import type { StudioSettings, StudioSettingsChange, UnpricedPolicy } from '../../api/types';
import { Alert } from '../../components/Alert';
import { Loading } from '../../components/Loading';
import { TextField } from '../../components/TextField';
import { formatResetDay, formatUsd, parseUsd } from '../../lib/budget';
import { useSaveStudioSettings, useStudioSettings } from './api';

/** fal keeps a file from 60 s to a year when asked (`X-Fal-Object-Lifecycle-Preference`). */
export const MIN_EXPIRY_SECONDS = 60;
export const MAX_EXPIRY_SECONDS = 365 * 24 * 3600;
export const MAX_CONCURRENCY = 1000;

type ExpiryUnit = 'hours' | 'seconds';
const UNIT_SECONDS: Record<ExpiryUnit, number> = { hours: 3600, seconds: 1 };

interface Draft {
  storeIo: boolean;
  expiryDefault: boolean;
  expiry: string;
  expiryUnit: ExpiryUnit;
  concurrency: string;
  budget: string;
  unpriced: UnpricedPolicy;
  reserve: string;
}

function draftOf(settings: StudioSettings): Draft {
  const seconds = settings.providerRetention.mediaExpirySeconds ?? null;
  const unit: ExpiryUnit = seconds !== null && seconds % 3600 === 0 ? 'hours' : 'seconds';
  const budget = settings.studioBudgetMonthlyUsd ?? settings.studioBudget.budgetMonthlyUsd ?? null;
  return {
    storeIo: settings.providerRetention.storeIo,
    expiryDefault: seconds === null,
    expiry: seconds === null ? '24' : String(seconds / UNIT_SECONDS[unit]),
    expiryUnit: seconds === null ? 'hours' : unit,
    concurrency: String(settings.studioKeyConcurrency),
    budget: budget === null ? '' : String(budget),
    unpriced: settings.unpricedGenerations,
    reserve: String(settings.unpricedReserveUsd),
  };
}

type Problems = Partial<Record<'expiry' | 'concurrency' | 'budget' | 'reserve', string>>;

/** The change to send, or what is wrong with the form. */
export function toChange(draft: Draft): { change: StudioSettingsChange } | { problems: Problems } {
  const problems: Problems = {};
  let mediaExpirySeconds: number | null = null;
  if (!draft.expiryDefault) {
    const amount = Number(draft.expiry.trim());
    const seconds = amount * UNIT_SECONDS[draft.expiryUnit];
    if (draft.expiry.trim() === '' || !Number.isInteger(seconds) || seconds < MIN_EXPIRY_SECONDS || seconds > MAX_EXPIRY_SECONDS) {
      problems.expiry = `Enter from 60 seconds to 8,760 hours (a year), or choose fal’s default.`;
    } else {
      mediaExpirySeconds = seconds;
    }
  }
  const concurrency = Number(draft.concurrency.trim());
  if (draft.concurrency.trim() === '' || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    problems.concurrency = `Enter a whole number from 1 to ${MAX_CONCURRENCY}.`;
  }
  const budget = parseUsd(draft.budget);
  if (budget !== null && typeof budget === 'object') problems.budget = budget.error;
  const reserve = parseUsd(draft.reserve);
  if (draft.unpriced === 'reserve' && (reserve === null || typeof reserve === 'object')) {
    problems.reserve = 'Enter the amount in USD to reserve for each run.';
  }
  if (Object.keys(problems).length > 0) return { problems };
  return {
    change: {
      providerRetention: { storeIo: draft.storeIo, mediaExpirySeconds },
      studioKeyConcurrency: concurrency,
      studioBudgetMonthlyUsd: budget as number | null,
      unpricedGenerations: draft.unpriced,
      // Kept as it was when refusing; the field is only read when reserving.
      ...(typeof reserve === 'number' ? { unpricedReserveUsd: reserve } : {}),
    },
  };
}

function StudioBudget({ settings }: { settings: StudioSettings }) {
  const state = settings.studioBudget;
  return (
    <dl className="budget-facts" aria-label="The studio key this month">
      <div>
        <dt>Spent this month</dt>
        <dd>{formatUsd(state.spentMonthUsd)}</dd>
      </div>
      <div>
        <dt>Reserved</dt>
        <dd>{formatUsd(state.reservedUsd)}</dd>
      </div>
      <div>
        <dt>Remaining</dt>
        <dd>{state.remainingUsd == null ? 'No limit' : formatUsd(state.remainingUsd)}</dd>
      </div>
      <div>
        <dt>Resets</dt>
        <dd>{formatResetDay(state.resetsAt)}</dd>
      </div>
    </dl>
  );
}

function SettingsForm({ settings, onSaved }: { settings: StudioSettings; onSaved: () => void }) {
  const [draft, setDraft] = useState(() => draftOf(settings));
  const [problems, setProblems] = useState<Problems>({});
  const save = useSaveStudioSettings();
  const expiryId = useId();
  const expiryUnitId = useId();
  const expiryErrorId = useId();
  const reserveId = useId();
  const reserveErrorId = useId();
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((prev) => ({ ...prev, [key]: value }));

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (save.isPending) return;
    const result = toChange(draft);
    if ('problems' in result) {
      setProblems(result.problems);
      return;
    }
    setProblems({});
    save.mutate(result.change, { onSuccess: onSaved });
  };

  return (
    <form className="form settings-form" onSubmit={onSubmit} noValidate aria-label="Studio settings">
      {save.error !== null && <Alert tone="error">{save.error.message}</Alert>}

      <fieldset className="field-group">
        <legend>What fal keeps</legend>
        <label className="check">
          <input type="checkbox" checked={draft.storeIo} onChange={(event) => set('storeIo', event.target.checked)} />
          Let fal keep request history
        </label>
        <p className="field-hint">
          Off: every request asks fal to keep no copy of its inputs and outputs in its request history.
        </p>
        <fieldset className="field-group nested">
          <legend>How long fal keeps the files it makes and the files sent to it</legend>
          <label className="check">
            <input type="radio" name="expiry" checked={draft.expiryDefault} onChange={() => set('expiryDefault', true)} />
            fal’s default (at least 7 days)
          </label>
          <div className="check inline-choice">
            <input
              type="radio"
              name="expiry"
              id={`${expiryId}-custom`}
              checked={!draft.expiryDefault}
              onChange={() => set('expiryDefault', false)}
            />
            <label htmlFor={`${expiryId}-custom`}>Delete after</label>
            <label htmlFor={expiryId} className="visually-hidden">
              Time fal keeps files
            </label>
            <input
              id={expiryId}
              type="number"
              min={1}
              step={1}
              inputMode="numeric"
              value={draft.expiry}
              disabled={draft.expiryDefault}
              aria-invalid={problems.expiry !== undefined}
              aria-describedby={problems.expiry !== undefined ? expiryErrorId : undefined}
              onChange={(event) => set('expiry', event.target.value)}
            />
            <label htmlFor={expiryUnitId} className="visually-hidden">
              Unit
            </label>
            <select
              id={expiryUnitId}
              value={draft.expiryUnit}
              disabled={draft.expiryDefault}
              onChange={(event) => set('expiryUnit', event.target.value as ExpiryUnit)}
            >
              <option value="hours">hours</option>
              <option value="seconds">seconds</option>
            </select>
          </div>
          {problems.expiry !== undefined && (
            <p id={expiryErrorId} className="field-error">
              {problems.expiry}
            </p>
          )}
        </fieldset>
      </fieldset>

      <TextField
        label="Studio key: requests at fal at once"
        name="studioKeyConcurrency"
        type="number"
        autoComplete="off"
        hint="From 1 to 1000. fal starts an account at 2 requests at once and raises it as credits are bought; more jobs wait in the studio’s queue."
        value={draft.concurrency}
        onChange={(value) => set('concurrency', value)}
        error={problems.concurrency}
      />

      <TextField
        label="Studio key: monthly budget (USD)"
        name="studioBudgetMonthlyUsd"
        type="number"
        autoComplete="off"
        hint="What every job on the studio key may cost together each calendar month (UTC). Empty: no limit."
        value={draft.budget}
        onChange={(value) => set('budget', value)}
        error={problems.budget}
      />
      <StudioBudget settings={settings} />

      <fieldset className="field-group">
        <legend>Generations whose cost cannot be estimated</legend>
        <p className="field-hint">When a budget applies and fal’s price for a job’s settings cannot be worked out.</p>
        <label className="check">
          <input type="radio" name="unpriced" checked={draft.unpriced === 'refuse'} onChange={() => set('unpriced', 'refuse')} />
          Refuse them
        </label>
        <div className="check inline-choice">
          <input
            type="radio"
            name="unpriced"
            id={`${reserveId}-choice`}
            checked={draft.unpriced === 'reserve'}
            onChange={() => set('unpriced', 'reserve')}
          />
          <label htmlFor={`${reserveId}-choice`}>Run them, reserving</label>
          <label htmlFor={reserveId} className="visually-hidden">
            USD reserved for each run
          </label>
          <input
            id={reserveId}
            type="number"
            min={0}
            step={0.01}
            inputMode="decimal"
            value={draft.reserve}
            disabled={draft.unpriced !== 'reserve'}
            aria-invalid={problems.reserve !== undefined}
            aria-describedby={problems.reserve !== undefined ? reserveErrorId : undefined}
            onChange={(event) => set('reserve', event.target.value)}
          />
          <span>USD per run</span>
        </div>
        {problems.reserve !== undefined && (
          <p id={reserveErrorId} className="field-error">
            {problems.reserve}
          </p>
        )}
      </fieldset>

      <button type="submit" className="button button-primary settings-save" disabled={save.isPending}>
        {save.isPending ? 'Saving…' : 'Save settings'}
      </button>
    </form>
  );
}

/** Retention at fal, the studio key's concurrency and budget, and jobs that cannot be priced. */
export function SettingsPanel() {
  const settings = useStudioSettings();
  const [saved, setSaved] = useState(0);

  let body;
  if (settings.isPending) body = <Loading label="Loading settings…" />;
  else if (settings.isError) body = <Alert tone="error">Could not load the settings: {settings.error.message}</Alert>;
  else
    body = (
      <>
        {saved > 0 && <Alert tone="success">Settings saved.</Alert>}
        {/* A new form per save: it starts from what the server now has. */}
        <SettingsForm key={saved} settings={settings.data} onSaved={() => setSaved((n) => n + 1)} />
      </>
    );

  return (
    <section className="card" aria-labelledby="studio-settings-heading">
      <h2 id="studio-settings-heading">Studio settings</h2>
      {body}
    </section>
  );
}
