import { useId, useState, type FormEvent } from 'react';
import type { ApiError } from '../../api/client';
import { Link } from 'react-router';
import type { Model, Spec } from '../../api/types';
import { Alert } from '../../components/Alert';
import { fieldErrors } from '../../lib/fieldErrors';
import { estimateQuantity, formatCost, formatUnitPrice } from '../../lib/money';
import { routes } from '../../lib/routes';
import { useDebouncedValue } from '../../lib/useDebouncedValue';
import { humanEnum } from '../../lib/words';
import { useEstimate } from './api';
import { fieldPaths, labelAt, REQUIRED, setAt, toParams, validateDraft, type Draft, type DraftValue } from './formValues';
import { budgetReason, KeyNote, type KeyUse } from './keyUse';
import { SpecFields } from './SpecForm';
import { UploadPanel } from './UploadPanel';
import type { Submit } from './jobsApi';
import { buildGenerationForm, checkUploads, uploadSlots, type Uploads } from './uploads';
import { SUBMIT_KEYS, SUBMIT_KEYS_TEXT, submitOnModEnter } from './shortcut';

export const ESTIMATE_DEBOUNCE_MS = 400;
export { NO_KEY_REASON } from './keyUse';
export const MAX_RUNS = 8;

/** The runs input's text as a count the server takes (1–8), or null while it is not one. */
export function parseRuns(text: string): number | null {
  const value = Number(text.trim());
  return Number.isInteger(value) && value >= 1 && value <= MAX_RUNS ? value : null;
}

/** "Generate", or how many jobs one click makes ("Generate 4 jobs"). */
export const generateLabel = (runs: number | null) => (runs !== null && runs > 1 ? `Generate ${runs} jobs` : 'Generate');

type EstimateQuery = ReturnType<typeof useEstimate>;

/**
 * The estimate for everything one click starts, in words. The server's estimate is for one run
 * and already counts the outputs each run asks for (`num_images` and the like), so only the runs
 * multiply it. No estimate while the form or the runs are not valid, or the values are still
 * settling (`current`: the estimate is for the values on screen).
 */
export function estimateText(estimate: EstimateQuery, valid: boolean, current: boolean, runs: number | null): string {
  if (!valid) return 'Complete the form to see an estimate.';
  if (runs === null) return `Choose 1–${MAX_RUNS} runs to see an estimate.`;
  if (!current || estimate.isPending) return 'Estimating…';
  if (estimate.isError) return `No estimate: ${estimate.error.message}`;
  if (estimate.data.estimate == null) return estimate.data.reason ?? 'fal publishes no price for this model.';
  const { totalCost, currency } = estimate.data.estimate;
  const quantity = estimateQuantity(estimate.data.estimate);
  if (runs === 1) return `Estimated cost: ${formatCost(totalCost, currency)} (${quantity})`;
  const total = formatCost(totalCost * runs, currency);
  const each = formatCost(totalCost, currency);
  // "3 runs × under $0.01" says little: a fraction of a cent each is said by what each run counts.
  return totalCost > 0 && totalCost < 0.01
    ? `Estimated cost: ${total} (${runs} runs, each ${quantity})`
    : `Estimated cost: ${total} (${runs} runs × ${each}, ${quantity} each)`;
}

interface ModelFormProps {
  spec: Spec;
  /** The catalog entry, when known: its name and price stand in for missing ones in the spec. */
  model: Model | null;
  draft: Draft;
  onDraftChange: (draft: Draft) => void;
  uploads: Uploads;
  onAddFiles: (slotKey: string, files: File[], multiple: boolean) => void;
  onRemoveFile: (slotKey: string, id: string) => void;
  /** The key Generate will use (none: Generate is off, saying why). */
  keyUse: KeyUse;
  /** Sends one generation; never blocks the form (each call is its own queue entry). */
  onGenerate: Submit;
}

/** The selected model's form: fields from its spec, its upload panels, the price and Generate. */
export function ModelForm({ spec, model, draft, onDraftChange, uploads, onAddFiles, onRemoveFile, keyUse, onGenerate }: ModelFormProps) {
  const headingId = useId();
  const reasonId = useId();
  const [touched, setTouched] = useState<ReadonlySet<string>>(() => new Set());
  const [showAll, setShowAll] = useState(false);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [runsText, setRunsText] = useState('1');
  const [sendError, setSendError] = useState<ApiError | null>(null);
  const runsId = useId();
  const runs = parseRuns(runsText);

  const slots = uploadSlots(spec);
  const title = spec.displayName ?? model?.displayName ?? spec.endpointId;
  const clientErrors = validateDraft(spec.fields, draft);
  const uploadErrors = checkUploads(slots, uploads);
  const params = toParams(spec.fields, draft);
  const paramsJson = JSON.stringify(params);
  const valid = Object.keys(clientErrors).length === 0 && Object.keys(uploadErrors).length === 0;

  const shown: Record<string, string> = {};
  for (const [path, message] of Object.entries(serverErrors)) shown[path] = message;
  for (const [path, message] of Object.entries(clientErrors)) {
    if (showAll || touched.has(path) || touched.has(path.split('.')[0] ?? path)) shown[path] = message;
  }
  const shownUpload = (key: string) => serverErrors[key] ?? (showAll ? uploadErrors[key] : undefined);

  const firstClient = Object.entries(clientErrors)[0];
  const firstUpload = slots.find((slot) => uploadErrors[slot.key] !== undefined);
  // The estimate, asked for once the values have settled; it also decides whether the budget allows Generate.
  const settled = useDebouncedValue(paramsJson, ESTIMATE_DEBOUNCE_MS);
  const current = settled === paramsJson;
  const estimate = useEstimate(spec.endpointId, settled, valid && current);
  const priced = valid && current && estimate.isSuccess ? (estimate.data.estimate ?? null) : null;
  // All runs together; unknown while estimating, without a price, or without a valid count of runs.
  const estimateUsd = priced === null || runs === null ? null : priced.totalCost * runs;
  // With nothing left, that comes first: no change to the form would make Generate work.
  const overBudget = budgetReason(keyUse.budget, estimateUsd);

  let reason: string | null = null;
  if (keyUse.source === 'none') reason = keyUse.noKeyReason;
  else if (overBudget !== null && estimateUsd === null) reason = overBudget;
  // A field still empty asks to be filled, rather than reading as an error before any typing.
  else if (firstClient !== undefined)
    reason =
      firstClient[1] === REQUIRED
        ? `Fill in ${labelAt(spec.fields, firstClient[0])} to generate.`
        : `${labelAt(spec.fields, firstClient[0])}: ${firstClient[1]}`;
  else if (firstUpload !== undefined) reason = `${firstUpload.label}: ${uploadErrors[firstUpload.key] ?? ''}`;
  else if (runs === null) reason = `Runs: choose from 1 to ${MAX_RUNS}.`;
  else if (overBudget !== null) reason = overBudget;

  const clearServerError = (path: string) => {
    if (serverErrors[path] === undefined) return;
    const rest = { ...serverErrors };
    delete rest[path];
    setServerErrors(rest);
  };

  const onChange = (draftPath: readonly string[], value: DraftValue) => {
    onDraftChange(setAt(draft, draftPath, value));
    const top = draftPath[0] ?? '';
    setTouched((prev) => (prev.has(top) ? prev : new Set(prev).add(top)));
    for (const path of Object.keys(serverErrors)) if (path === top || path.startsWith(`${top}.`)) clearServerError(path);
  };
  const onTouch = (path: string) => setTouched((prev) => (prev.has(path) ? prev : new Set(prev).add(path)));

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setShowAll(true);
    if (reason !== null || runs === null) return;
    setServerErrors({});
    setSendError(null);
    const form = buildGenerationForm(spec.endpointId, params, uploads, { count: runs });
    onGenerate(form, { endpointId: spec.endpointId, modelName: title, count: runs, label: null }).catch((error: ApiError) => {
      setSendError(error);
      const known = [...fieldPaths(spec.fields), ...slots.map((slot) => slot.key)];
      setServerErrors(fieldErrors(error.details, known) as Record<string, string>);
    });
  };

  const price = spec.price ?? model?.price ?? null;
  const category = spec.category ?? model?.category ?? null;
  return (
    <section className="card model-form" aria-labelledby={headingId}>
      <header className="form-header">
        <h2 id={headingId}>{title}</h2>
        <p className="muted">
          <code>{spec.endpointId}</code>
          {category !== null && ` · ${humanEnum(category)}`}
          {' · '}
          <span data-testid="unit-price">{price === null ? 'price unknown' : formatUnitPrice(price)}</span>
        </p>
      </header>

      <form className="form" onSubmit={onSubmit} onKeyDown={submitOnModEnter} noValidate aria-label={`Settings for ${title}`}>
        {slots.length > 0 && (
          <div className="uploads">
            {slots.map((slot) => (
              <UploadPanel
                key={slot.key}
                slot={slot}
                items={uploads[slot.key] ?? []}
                error={shownUpload(slot.key)}
                onAdd={(files) => {
                  onAddFiles(slot.key, files, slot.multiple);
                  clearServerError(slot.key);
                }}
                onRemove={(id) => onRemoveFile(slot.key, id)}
              />
            ))}
          </div>
        )}

        {spec.fields.length === 0 && <p className="muted">This model publishes no settings.</p>}
        <SpecFields fields={spec.fields} draft={draft} errors={shown} onChange={onChange} onTouch={onTouch} />

        {sendError !== null && <Alert tone="error">{sendError.message}</Alert>}

        <div className="generate-row">
          {/* Beside Generate, so the price is in view whenever the button is. */}
          <p className="estimate" data-testid="estimate" aria-live="polite">
            {estimateText(estimate, valid, current, runs)}
          </p>
          <button
            type="submit"
            className="button button-primary"
            disabled={reason !== null}
            aria-describedby={reason !== null ? reasonId : undefined}
            aria-keyshortcuts={SUBMIT_KEYS}
            title={`${generateLabel(runs)} (${SUBMIT_KEYS_TEXT})`}
          >
            {generateLabel(runs)}
          </button>
          <label className="runs" htmlFor={runsId}>
            Runs
            <input
              id={runsId}
              type="number"
              min={1}
              max={MAX_RUNS}
              step={1}
              value={runsText}
              aria-invalid={runs === null}
              onChange={(event) => setRunsText(event.target.value)}
            />
          </label>
          <KeyNote keyUse={keyUse} hideBudget={reason !== null && reason === overBudget} />
          {reason !== null && (
            <p id={reasonId} className="muted generate-reason" data-testid="generate-reason">
              {reason}
              {keyUse.source === 'none' && (
                <>
                  {' '}
                  <Link to={routes.settings.path}>Open {routes.settings.title}</Link>
                </>
              )}
            </p>
          )}
        </div>
      </form>
    </section>
  );
}
