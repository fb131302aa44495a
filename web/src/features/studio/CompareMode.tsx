import { queryOptions, skipToken, useQueries } from '@tanstack/react-query';
import { useCallback, useId, useState, type Dispatch, type FormEvent, type ReactNode, type SetStateAction } from 'react';
import { Link } from 'react-router';
import type { ApiError } from '../../api/client';
import type { EstimateResponse, Job, Spec } from '../../api/types';
import { Alert } from '../../components/Alert';
import { FormSkeleton } from '../../components/Skeleton';
import { formatMoney } from '../../lib/money';
import { routes } from '../../lib/routes';
import { useDebouncedValue } from '../../lib/useDebouncedValue';
import { countOf, plural, unitCount } from '../../lib/words';
import { modelKeys, specQueryOptions, useEstimate } from './api';
import { COMPARE_MAX, COMPARE_MIN, compareLabel, compareSlots, leftOutLabels, paramsFor, uploadsFor } from './compare';
import { labelAt, promptFieldOf, REQUIRED, setAt, toParams, validateDraft, type Draft, type DraftValue } from './formValues';
import { SUBMIT_KEYS, SUBMIT_KEYS_TEXT, submitOnModEnter } from './shortcut';
import { specProblem } from './noForm';
import { CategoryBadge, JobBody, JobStatusBadge, StatusBadge } from './JobView';
import { newestFirst } from './jobs';
import { useJobs, type Submit } from './jobsApi';
import { budgetReason, KeyNote, type KeyUse } from './keyUse';
import { ESTIMATE_DEBOUNCE_MS } from './ModelForm';
import { SpecFields } from './SpecForm';
import { UploadPanel } from './UploadPanel';
import { buildGenerationForm, checkUploads, type UploadItem } from './uploads';

export interface CompareColumn {
  endpointId: string;
  name: string;
  leftOut: string[];
  /** `unavailable`: the model has no form the studio could load (`problem` says why); not sent. */
  state: 'sending' | 'sent' | 'failed' | 'unavailable';
  error: ApiError | null;
  problem?: string;
  jobId: string | null;
  groupId: string | null;
}

export interface CompareRun {
  id: number;
  label: string;
  columns: CompareColumn[];
}

let runCounter = 0;
let uploadCounter = 0;

interface CompareModeProps {
  ids: readonly string[];
  /** Names from the catalog entries picked, for models whose spec has none. */
  names: Readonly<Record<string, string>>;
  onRemove: (endpointId: string) => void;
  draftFor: (spec: Spec) => Draft;
  onDraftChange: (endpointId: string, draft: Draft) => void;
  /** The key Generate will use (none: Generate is off, saying why). */
  keyUse: KeyUse;
  onGenerate: Submit;
  run: CompareRun | null;
  onRun: Dispatch<SetStateAction<CompareRun | null>>;
}

/** One model's estimate for one run, as a person reads it. */
export type ModelCost =
  | { kind: 'waiting'; text: string }
  | { kind: 'cost'; totalCost: number; currency: string; text: string }
  /** `none`: fal gave no estimate (no price, …); `failed`: asking failed; `unset`: the form lacks a setting it needs. */
  | { kind: 'none' | 'failed' | 'unset'; text: string };

/** What an estimate query (the form's, for one model) says, in `ModelCost`'s terms. */
export function modelCost(
  query: { isPending: boolean; isError: boolean; error: { message: string } | null; data: EstimateResponse | undefined },
  settled: boolean,
): ModelCost {
  if (!settled || query.isPending) return { kind: 'waiting', text: 'Estimating…' };
  if (query.isError || query.data === undefined) return { kind: 'failed', text: `No estimate: ${query.error?.message ?? 'the server did not answer.'}` };
  const estimate = query.data.estimate ?? null;
  if (estimate === null) return { kind: 'none', text: query.data.reason ?? 'fal publishes no price for this model.' };
  const { totalCost, currency, unitQuantity, unit } = estimate;
  return { kind: 'cost', totalCost, currency, text: `Estimated ${formatMoney(totalCost, currency)} per run (${unitCount(unitQuantity, unit)}).` };
}

/** "A", "A and B", "A, B and C". */
function listOf(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`;
}

/**
 * The line near "Compare": what one run of every model costs together ("Estimated total: $0.09"),
 * or at least what the priced ones cost, naming those without an estimate.
 */
export function totalLine(costs: readonly { name: string; cost: ModelCost }[]): string {
  if (costs.some(({ cost }) => cost.kind === 'waiting')) return 'Estimating the total…';
  const sums = new Map<string, number>();
  for (const { cost } of costs) if (cost.kind === 'cost') sums.set(cost.currency, (sums.get(cost.currency) ?? 0) + cost.totalCost);
  const total = [...sums].map(([currency, sum]) => formatMoney(sum, currency)).join(' + ');
  const without = (kind: ModelCost['kind']) => costs.filter(({ cost }) => cost.kind === kind).map(({ name }) => name);
  const has = (names: readonly string[]) => plural(names.length, 'has', 'have');
  const gaps = [
    [without('none'), (names: string[]) => `${listOf(names)} ${has(names)} no estimate`],
    [without('failed'), (names: string[]) => `${listOf(names)} could not be estimated`],
    [without('unset'), (names: string[]) => `${listOf(names)} ${plural(names.length, 'needs', 'need')} settings this form does not set`],
  ] as const;
  const said = gaps.filter(([names]) => names.length > 0).map(([names, say]) => say(names));
  if (said.length === 0) return `Estimated total: ${total}`;
  if (sums.size === 0) return `No estimated total: ${said.join('; ')}.`;
  return `Estimated total: at least ${total}; ${said.join('; ')}.`;
}

/**
 * Beside a model's note: its estimate for one run with the params it gets, asked once they have
 * settled and the form is complete (mounted all along, so the first complete value waits too).
 */
function ModelEstimate({ endpointId, params, valid }: { endpointId: string; params: string; valid: boolean }) {
  const settled = useDebouncedValue(params, ESTIMATE_DEBOUNCE_MS);
  const estimate = useEstimate(endpointId, settled, valid && settled === params);
  if (!valid) return null;
  const cost = modelCost(estimate, settled === params);
  return (
    <span className={`compare-estimate${cost.kind === 'failed' ? ' field-error' : ''}`} data-testid="model-estimate">
      {' '}
      {cost.text}
    </span>
  );
}

interface EstimateLine {
  endpointId: string;
  name: string;
  /** The JSON text of the params this model gets; null: it lacks a required one, so is not estimated. */
  params: string | null;
}

/**
 * The estimated total of a compare. Each model's line asks for its own estimate (`ModelEstimate`);
 * this reads the same cached answers (never asking itself), once the params have settled.
 */
function CompareTotal({ lines, valid }: { lines: readonly EstimateLine[]; valid: boolean }) {
  const current = JSON.stringify(lines.map((line) => [line.endpointId, line.params]));
  const settled = useDebouncedValue(current, ESTIMATE_DEBOUNCE_MS);
  const answers = useQueries({
    queries: lines.map((line) =>
      queryOptions<EstimateResponse>({ queryKey: modelKeys.estimate(line.endpointId, line.params ?? ''), queryFn: skipToken }),
    ),
  });
  const body = valid
    ? totalLine(
        lines.map((line, index) => {
          const answer = answers[index];
          const cost: ModelCost =
            line.params === null ? { kind: 'unset', text: '' } : answer === undefined ? { kind: 'waiting', text: '' } : modelCost(answer, settled === current);
          return { name: line.name, cost };
        }),
      )
    : 'Complete the form to see an estimated total.';
  return (
    <p className="estimate" data-testid="compare-total" aria-live="polite">
      {body}
    </p>
  );
}

/** The latest job of a column: a retry is a new job in the same group, for the same model. */
function columnJob(jobs: readonly Job[], column: CompareColumn): Job | undefined {
  const candidates = jobs.filter(
    (job) => job.id === column.jobId || (column.groupId !== null && job.groupId === column.groupId && job.endpointId === column.endpointId),
  );
  return [...candidates].sort(newestFirst)[0];
}

function ResultColumn({ column, jobs }: { column: CompareColumn; jobs: readonly Job[] }) {
  const job = columnJob(jobs, column);
  return (
    <section className="compare-column card" aria-label={`Result of ${column.name}`} data-endpoint={column.endpointId}>
      <header className="job-head">
        <h3 className="job-model">{column.name}</h3>
        {job !== undefined ? (
          <JobStatusBadge job={job} />
        ) : column.state === 'failed' ? (
          <StatusBadge status="failed" label="Not sent" />
        ) : column.state === 'unavailable' ? (
          <StatusBadge status="cancelled" label="Not run" />
        ) : (
          <StatusBadge status="submitting" label={column.state === 'sending' ? 'Sending' : 'Hidden'} />
        )}
      </header>
      {column.leftOut.length > 0 && <p className="field-hint">Left out: {column.leftOut.join(', ')}.</p>}
      {job !== undefined && <JobBody job={job} />}
      {job === undefined && column.state === 'unavailable' && <p className="job-line muted">{column.problem}</p>}
      {job === undefined && column.state === 'sending' && <p className="job-line">Sending to the studio server…</p>}
      {job === undefined && column.state === 'sent' && (
        <p className="job-line muted">Cleared from the queue; a completed result is in the gallery.</p>
      )}
      {job === undefined && column.state === 'failed' && column.error !== null && (
        <div className="job-failure">
          <CategoryBadge error={column.error} />
          <p className="job-error">{column.error.message}</p>
        </div>
      )}
    </section>
  );
}

/** 2–4 models, one prompt and settings (the first model's form), the same uploads; results side by side. */
export function CompareMode({ ids, names, onRemove, draftFor, onDraftChange, keyUse, onGenerate, run, onRun }: CompareModeProps) {
  const headingId = useId();
  const reasonId = useId();
  const specQueries = useQueries({ queries: ids.map((id) => specQueryOptions(id)) });
  const jobs = useJobs();
  const [uploads, setUploads] = useState<Record<string, UploadItem[]>>({});
  const [showAll, setShowAll] = useState(false);
  const [touched, setTouched] = useState<ReadonlySet<string>>(() => new Set());

  const specs = specQueries.map((query) => query.data).filter((spec): spec is Spec => spec !== undefined);
  const loading = specQueries.some((query) => query.isPending);
  // A model whose form did not load says so in its own place; the others still compare.
  const problems = new Map<string, string>();
  ids.forEach((id, index) => {
    const query = specQueries[index];
    if (query?.isError === true) problems.set(id, specProblem(query.error, names[id] ?? id, names[id] !== undefined));
  });
  const first = specs[0];
  const formShown = ids.length >= COMPARE_MIN && !loading && first !== undefined;
  const nameOf = (spec: Spec) => spec.displayName ?? names[spec.endpointId] ?? spec.endpointId;

  const addFiles = useCallback((key: string, files: File[], multiple: boolean) => {
    const added = files.map((file) => ({ id: `compare-upload-${++uploadCounter}`, file }));
    setUploads((prev) => ({ ...prev, [key]: multiple ? [...(prev[key] ?? []), ...added] : added.slice(0, 1) }));
  }, []);

  const chosen = (
    <ol className="compare-chosen" aria-label="Models to compare">
      {ids.map((id, index) => (
        <li key={id} className="chip-item">
          <span>
            {id === first?.endpointId && <strong>Form: </strong>}
            {specQueries[index]?.data?.displayName ?? names[id] ?? id}
            {/* Said here only while there is no form whose notes would say it. */}
            {problems.has(id) && !formShown && <span className="field-hint compare-problem"> — {problems.get(id)}</span>}
          </span>
          <button type="button" className="link-button" aria-label={`Remove ${names[id] ?? id} from the comparison`} onClick={() => onRemove(id)}>
            Remove
          </button>
        </li>
      ))}
    </ol>
  );

  let body: ReactNode;
  if (ids.length < COMPARE_MIN) {
    body = <p className="placeholder">Pick {COMPARE_MIN}–{COMPARE_MAX} models in the list; the first one’s settings form is used for all.</p>;
  } else if (loading) {
    body = <FormSkeleton label="Loading the models’ settings…" card={false} />;
  } else if (first === undefined) {
    body = <Alert tone="error">None of these models has a form the studio could load: pick others.</Alert>;
  } else {
    const draft = draftFor(first);
    const slots = compareSlots(specs);
    const params = toParams(first.fields, draft);
    const clientErrors = validateDraft(first.fields, draft);
    const uploadErrors = checkUploads(slots, uploads);
    const shown: Record<string, string> = {};
    for (const [path, message] of Object.entries(clientErrors)) {
      if (showAll || touched.has(path.split('.')[0] ?? path)) shown[path] = message;
    }
    const formPrompt = promptFieldOf(first);
    const plans = specs.map((spec) => ({ spec, params: paramsFor(spec, params, formPrompt), uploads: uploadsFor(spec, uploads) }));

    const firstClient = Object.entries(clientErrors)[0];
    const firstUpload = slots.find((slot) => uploadErrors[slot.key] !== undefined);
    // As on a single model's form: no estimate until the form is complete.
    const valid = firstClient === undefined && firstUpload === undefined;
    const estimateLines: EstimateLine[] = plans.map((plan) => ({
      endpointId: plan.spec.endpointId,
      name: nameOf(plan.spec),
      params: plan.params.missing.length > 0 ? null : JSON.stringify(plan.params.params),
    }));
    let reason: string | null = null;
    // A budget already used up holds every column back; one the total would pass is the
    // server's to refuse, column by column (the total is read from the estimates' cache).
    const usedUp = budgetReason(keyUse.budget, null);
    if (keyUse.source === 'none') reason = keyUse.noKeyReason;
    else if (usedUp !== null) reason = usedUp;
    else if (specs.length < COMPARE_MIN) reason = `Compare needs ${COMPARE_MIN} models with an input form: pick another.`;
    else if (firstClient !== undefined)
      reason =
        firstClient[1] === REQUIRED
          ? `Fill in ${labelAt(first.fields, firstClient[0])} to compare.`
          : `${labelAt(first.fields, firstClient[0])}: ${firstClient[1]}`;
    else if (firstUpload !== undefined) reason = `${firstUpload.label}: ${uploadErrors[firstUpload.key] ?? ''}`;

    const onChange = (path: readonly string[], value: DraftValue) => {
      onDraftChange(first.endpointId, setAt(draft, path, value));
      const top = path[0] ?? '';
      setTouched((prev) => (prev.has(top) ? prev : new Set(prev).add(top)));
    };

    const onSubmit = (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      setShowAll(true);
      if (reason !== null) return;
      const label = compareLabel(params, plans.length, formPrompt);
      const id = ++runCounter;
      const leftOutOf = (plan: (typeof plans)[number]) => leftOutLabels(plan, first.fields, slots);
      // One column per chosen model, in the order picked: those without a form say so and wait.
      const columns = ids.flatMap((endpointId): CompareColumn[] => {
        const plan = plans.find((candidate) => candidate.spec.endpointId === endpointId);
        const base = { endpointId, error: null, jobId: null, groupId: null };
        if (plan !== undefined) return [{ ...base, name: nameOf(plan.spec), leftOut: leftOutOf(plan), state: 'sending' }];
        const problem = problems.get(endpointId);
        return problem === undefined ? [] : [{ ...base, name: names[endpointId] ?? endpointId, leftOut: [], state: 'unavailable', problem }];
      });
      onRun({ id, label, columns });
      const update = (index: number, patch: Partial<CompareColumn>) => {
        const endpointId = plans[index]?.spec.endpointId;
        onRun((prev) =>
          prev?.id !== id
            ? prev
            : { ...prev, columns: prev.columns.map((column) => (column.endpointId === endpointId ? { ...column, ...patch } : column)) },
        );
      };
      const sendOne = async (index: number, groupId: string | null): Promise<string | null> => {
        const plan = plans[index];
        if (plan === undefined) return null;
        const form = buildGenerationForm(plan.spec.endpointId, plan.params.params, plan.uploads.uploads, { groupId, groupLabel: label });
        try {
          const answer = await onGenerate(form, { endpointId: plan.spec.endpointId, modelName: nameOf(plan.spec), count: 1, label });
          update(index, { state: 'sent', jobId: answer.job.id, groupId: answer.job.groupId });
          return answer.job.groupId;
        } catch (error) {
          update(index, { state: 'failed', error: error as ApiError });
          return null;
        }
      };
      void (async () => {
        // The first answer names the group; the others join it. Should the first be refused,
        // the next one that is accepted names it instead.
        let groupId: string | null = null;
        let next = 0;
        while (groupId === null && next < plans.length) groupId = await sendOne(next++, null);
        const joined = groupId;
        await Promise.all(plans.slice(next).map((_, offset) => sendOne(next + offset, joined)));
      })();
    };

    body = (
      <form className="form" onSubmit={onSubmit} onKeyDown={submitOnModEnter} noValidate aria-label="Compare settings">
        {slots.length > 0 && (
          <div className="uploads">
            {slots.map((slot) => (
              <UploadPanel
                key={slot.key}
                slot={slot}
                items={uploads[slot.key] ?? []}
                error={showAll ? uploadErrors[slot.key] : undefined}
                onAdd={(files) => addFiles(slot.key, files, slot.multiple)}
                onRemove={(itemId) => setUploads((prev) => ({ ...prev, [slot.key]: (prev[slot.key] ?? []).filter((i) => i.id !== itemId) }))}
              />
            ))}
          </div>
        )}
        <SpecFields fields={first.fields} draft={draft} errors={shown} onChange={onChange} onTouch={(path) => setTouched((prev) => new Set(prev).add(path))} />
        <ul className="compare-notes" aria-label="What each model gets">
          {plans.map((plan) => (
            <li key={plan.spec.endpointId} data-endpoint={plan.spec.endpointId}>
              <strong>{nameOf(plan.spec)}</strong>:{' '}
              {plan.params.leftOut.length === 0 && plan.uploads.leftOut.length === 0
                ? 'takes every setting.'
                : `leaves out ${leftOutLabels(plan, first.fields, slots).join(', ')}.`}
              {plan.params.missing.length > 0 && (
                <span className="field-error"> Needs {plan.params.missing.join(', ')}, which this form does not set.</span>
              )}
              {/* Always mounted (shown once there is something to say), so the debounce spans the first value too. */}
              <ModelEstimate
                endpointId={plan.spec.endpointId}
                params={JSON.stringify(plan.params.params)}
                valid={valid && plan.params.missing.length === 0}
              />
            </li>
          ))}
          {[...problems].map(([endpointId, problem]) => (
            <li key={endpointId} data-endpoint={endpointId} className="compare-unavailable">
              <strong>{names[endpointId] ?? endpointId}</strong>: {problem} It is left out.
            </li>
          ))}
        </ul>
        <div className="generate-row">
          {/* Beside Compare, as the single form's estimate is beside Generate. */}
          <CompareTotal lines={estimateLines} valid={valid} />
          <button
            type="submit"
            className="button button-primary"
            disabled={reason !== null}
            aria-describedby={reason !== null ? reasonId : undefined}
            aria-keyshortcuts={SUBMIT_KEYS}
            title={`One job per model (${SUBMIT_KEYS_TEXT})`}
          >
            Compare {countOf(plans.length, 'model')}
          </button>
          <KeyNote keyUse={keyUse} hideBudget={usedUp !== null} />
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
    );
  }

  return (
    <>
      <section className="card model-form" aria-labelledby={headingId}>
        <header className="form-header">
          <h2 id={headingId}>Compare models</h2>
          <p className="muted">
            One prompt for up to {COMPARE_MAX} models. Each gets only the settings and uploads it takes.
          </p>
        </header>
        {chosen}
        {body}
      </section>
      {run !== null && (
        <section className="compare-results" aria-label="Compare results">
          <h2>{run.label}</h2>
          <div className={`compare-grid compare-grid-${run.columns.length}`}>
            {run.columns.map((column) => (
              <ResultColumn key={column.endpointId} column={column} jobs={jobs.data ?? []} />
            ))}
          </div>
        </section>
      )}
    </>
  );
}
