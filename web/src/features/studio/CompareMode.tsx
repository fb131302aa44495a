import { useQueries } from '@tanstack/react-query';
import { useCallback, useId, useState, type Dispatch, type FormEvent, type ReactNode, type SetStateAction } from 'react';
import { Link } from 'react-router';
import type { ApiError } from '../../api/client';
import type { Job, Spec } from '../../api/types';
import { Alert } from '../../components/Alert';
import { FormSkeleton } from '../../components/Skeleton';
import { routes } from '../../lib/routes';
import { countOf } from '../../lib/words';
import { specQueryOptions } from './api';
import { COMPARE_MAX, COMPARE_MIN, compareLabel, compareSlots, leftOutLabels, paramsFor, uploadsFor } from './compare';
import { labelAt, promptFieldOf, setAt, toParams, validateDraft, type Draft, type DraftValue } from './formValues';
import { SUBMIT_KEYS, SUBMIT_KEYS_TEXT, submitOnModEnter } from './shortcut';
import { specProblem } from './noForm';
import { CategoryBadge, JobBody, JobStatusBadge, StatusBadge } from './JobView';
import { newestFirst } from './jobs';
import { useJobs, type Submit } from './jobsApi';
import { KeyNote, type KeyUse } from './keyUse';
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
    let reason: string | null = null;
    if (keyUse.source === 'none') reason = keyUse.noKeyReason;
    else if (specs.length < COMPARE_MIN) reason = `Compare needs ${COMPARE_MIN} models with an input form: pick another.`;
    else if (firstClient !== undefined) reason = `${labelAt(first.fields, firstClient[0])}: ${firstClient[1]}`;
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
            </li>
          ))}
          {[...problems].map(([endpointId, problem]) => (
            <li key={endpointId} data-endpoint={endpointId} className="compare-unavailable">
              <strong>{names[endpointId] ?? endpointId}</strong>: {problem} It is left out.
            </li>
          ))}
        </ul>
        <div className="generate-row">
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
          <KeyNote keyUse={keyUse} />
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
