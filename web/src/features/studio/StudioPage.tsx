import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { Model, Spec, User } from '../../api/types';
import { Alert } from '../../components/Alert';
import { ErrorBoundary } from '../../components/ErrorBoundary';
import { Page } from '../../components/Page';
import { SkipLink } from '../../components/SkipLink';
import { FormSkeleton } from '../../components/Skeleton';
import { routes } from '../../lib/routes';
import { PHONE_QUERY, useMediaQuery } from '../../lib/useMediaQuery';
import { useAssetDetail, useMarkRecent, useSpec } from './api';
import { COMPARE_MAX } from './compare';
import { CompareMode, type CompareRun } from './CompareMode';
import { carryPrompt, initialDraft, toParams, type Draft } from './formValues';
import { browserStorage, loadLastUsed, restoreDraft, saveLastUsed, type LastUsed } from './lastUsed';
import { useKeyUse } from './keyUse';
import { ModelForm } from './ModelForm';
import { useJob, useSubmit } from './jobsApi';
import { ModelPicker } from './ModelPicker';
import { isNoForm, noFormText } from './noForm';
import { QueuePanel } from './QueuePanel';
import { ResultViewerContext, useResultViewer } from './resultViewer';
import { Stage } from './Stage';
import { useJobEvents } from './useJobEvents';
import { addReference, afterReference, afterRemix, assetRef, readIntent, referenceSlot, remixNotice, remixSource, restoreReferences, seedDraft, type RemixSource } from './remix';
import { carryUploads, uploadSlots, type AssetRef, type UploadItem } from './uploads';

let uploadCounter = 0;
const uploadId = () => `upload-${++uploadCounter}`;

interface UploadState {
  /** The spec these uploads were attached under; a different one triggers the carry-over. */
  spec: Spec | null;
  items: Record<string, UploadItem[]>;
}

/** The values typed for each model, remembered while the page lives, restored on switching back. */
export type DraftMemory = Readonly<Record<string, Draft>>;

export function draftFor(memory: DraftMemory, spec: Spec): Draft {
  return memory[spec.endpointId] ?? initialDraft(spec.fields);
}

/** A remixed asset's or job's settings and references, waiting for its model's spec. */
type PendingRemix = RemixSource;

/** A gallery image waiting for a model with an image bucket (`triedOn`: the last model that had none). */
interface PendingReference {
  ref: AssetRef;
  triedOn: string | null;
}

/**
 * A word above the form about what just happened to it. It goes once it no longer applies: with
 * the next model switch (or a change of the models compared), once the attached file it is about
 * is removed, or with Dismiss.
 */
export interface Notice {
  text: string;
  /** The selection it is about (see `selectionKey`). */
  scope: string;
  /** The attached file it is about, if any. */
  itemId?: string;
}

/** What is selected: one model, or the models compared. */
export const selectionKey = (comparing: boolean, selectedId: string | null, compareIds: readonly string[]) =>
  comparing ? `compare:${compareIds.join(',')}` : `model:${selectedId ?? ''}`;

/** The notices that still apply (about this selection, and about files still attached), each sentence once. */
export function noticesShown(notices: readonly Notice[], scope: string, items: Readonly<Record<string, readonly UploadItem[]>>): string[] {
  const attached = new Set(Object.values(items).flatMap((list) => list.map((item) => item.id)));
  const applying = notices.filter((notice) => notice.scope === scope && (notice.itemId === undefined || attached.has(notice.itemId)));
  return [...new Set(applying.map((notice) => notice.text))];
}

const leftOutNote = (leftOut: readonly string[]) =>
  leftOut.length === 0 ? '' : ` This model does not take ${leftOut.join(', ')}: left out.`;

/**
 * Keeps `--studio-main-top` on the form panel at the panel's distance from the top of the window
 * (styles.css sizes the sticky panel with it, from a small laptop up): the panel then ends just
 * above the window's bottom wherever the page is scrolled, so Generate, pinned to the bottom of
 * the panel, is in view without scrolling the page.
 */
function useViewportTop(id: string) {
  useEffect(() => {
    const panel = document.getElementById(id);
    if (panel === null || typeof requestAnimationFrame !== 'function') return;
    let frame = 0;
    const update = () => {
      frame = 0;
      panel.style.setProperty('--studio-main-top', `${Math.round(panel.getBoundingClientRect().top)}px`);
    };
    const schedule = () => {
      if (frame === 0) frame = requestAnimationFrame(update);
    };
    update();
    window.addEventListener('scroll', schedule, { passive: true });
    window.addEventListener('resize', schedule);
    // What is above the panel can grow or shrink (a notice about the key arrives, fonts load).
    const observer = typeof ResizeObserver === 'function' ? new ResizeObserver(schedule) : null;
    observer?.observe(document.body);
    return () => {
      if (frame !== 0) cancelAnimationFrame(frame);
      window.removeEventListener('scroll', schedule);
      window.removeEventListener('resize', schedule);
      observer?.disconnect();
    };
  }, [id]);
}

export function StudioPage({ user }: { user: User }) {
  const [search, setSearch] = useSearchParams();
  const [storage] = useState(browserStorage);
  /** The last visit's model and values, until they have been put back. */
  const [lastUsed, setLastUsed] = useState<LastUsed | null>(() => (storage === null ? null : loadLastUsed(storage, user.id)));
  // Arriving with no model, remix or compare in the address: the last visit's model comes back.
  const [arrivalModel] = useState(() => {
    const intent = readIntent(search);
    const chosen = search.has('model') || search.has('compare') || intent.remix !== null || intent.remixJob !== null;
    return chosen ? null : (lastUsed?.endpointId ?? null);
  });
  const selectedId = search.get('model') ?? arrivalModel;
  // Compare mode: `?compare=a,b` (present, even empty, means the mode is on).
  const comparing = search.has('compare');
  const compareIds = (search.get('compare') ?? '').split(',').filter((id) => id !== '');
  const live = useJobEvents();
  const submit = useSubmit();
  const keyUse = useKeyUse(user);
  const [compareRun, setCompareRun] = useState<CompareRun | null>(null);
  /** Catalog names of the models picked, for models whose spec has no name. */
  const [names, setNames] = useState<Record<string, string>>({});
  const spec = useSpec(selectedId);
  const markRecent = useMarkRecent();
  const [drafts, setDrafts] = useState<DraftMemory>({});
  const [uploads, setUploads] = useState<UploadState>({ spec: null, items: {} });
  const [notices, setNotices] = useState<Notice[]>([]);
  const scope = selectionKey(comparing, selectedId, compareIds);
  /** The catalog entry last picked: names and prices the model when its spec does not. */
  const [picked, setPicked] = useState<Model | null>(null);
  const phone = useMediaQuery(PHONE_QUERY);
  const [formOpen, setFormOpen] = useState(true);
  const [scrollToForm, setScrollToForm] = useState(0);
  const formPanel = useRef<HTMLDivElement>(null);
  const formPanelId = useId();

  // A result opens in the app's viewer (the gallery's, plugged in by the app), over its run's results.
  const results = useResultViewer();

  // Arriving from the gallery or the queue: `?remix=<assetId>`, `?remixJob=<jobId>` and `?reference=<assetId>`.
  const intent = readIntent(search);
  const remixAsset = useAssetDetail(intent.remix);
  const remixJob = useJob(intent.remixJob);
  const referenceAsset = useAssetDetail(intent.reference);
  const [takenRemix, setTakenRemix] = useState<string | null>(null);
  const [takenReference, setTakenReference] = useState<string | null>(null);
  const [pendingRemix, setPendingRemix] = useState<PendingRemix | null>(null);
  /** After a remix, a switch to a model with no settings yet carries the values it takes. */
  const [carrying, setCarrying] = useState(false);
  const [pendingReference, setPendingReference] = useState<PendingReference | null>(null);

  const remixed = remixSource(intent, remixAsset.data, remixJob.data);
  if (remixed !== null && takenRemix !== remixed.key) {
    setTakenRemix(remixed.key);
    setPendingRemix(remixed);
  }
  if (intent.remix === null && intent.remixJob === null && takenRemix !== null) setTakenRemix(null);
  const referenced = intent.reference !== null && referenceAsset.data?.id === intent.reference ? referenceAsset.data : null;
  if (referenced !== null && takenReference !== referenced.id) {
    setTakenReference(referenced.id);
    if (referenced.resultKind === 'image') setPendingReference({ ref: assetRef(referenced), triedOn: null });
    else {
      // About the model in the address, once it has dropped `compare` (see `afterReference`).
      const text = `Only images can be used as references: this gallery item is ${referenced.resultKind === 'audio' ? 'an' : 'a'} ${referenced.resultKind}.`;
      setNotices([{ text, scope: selectionKey(false, selectedId, []) }]);
    }
  }
  if (intent.reference === null && takenReference !== null) setTakenReference(null);
  // The URL then drops the one-off parameter (and selects the remixed model).
  const remixEndpoint = remixed?.endpointId ?? null;
  useEffect(() => {
    if (remixEndpoint !== null) setSearch((prev) => afterRemix(prev, remixEndpoint), { replace: true });
  }, [remixEndpoint, setSearch]);
  useEffect(() => {
    if (referenced !== null) setSearch((prev) => afterReference(prev), { replace: true });
  }, [referenced, setSearch]);

  // A new model's spec has arrived: keep the uploads it can take, drop (and name) the others.
  const current = spec.data !== undefined && spec.data.endpointId === selectedId ? spec.data : null;
  if (current !== null && uploads.spec?.endpointId !== current.endpointId) {
    const { kept, dropped } = carryUploads(uploads.spec, current, uploads.items);
    setUploads({ spec: current, items: kept });
    const messages = dropped.map((drop) => drop.message);
    // After a remix, a model with no settings of its own yet gets what it takes of the last model's.
    const previous = uploads.spec;
    const remixing = pendingRemix?.endpointId === current.endpointId;
    const seeding = carrying && previous !== null && drafts[current.endpointId] === undefined && !remixing;
    if (seeding) {
      const { draft, leftOut } = seedDraft(current, toParams(previous.fields, draftFor(drafts, previous)));
      setDrafts((prev) => ({ ...prev, [current.endpointId]: draft }));
      if (leftOut.length > 0) messages.push(`Settings carried over.${leftOutNote(leftOut)}`);
    }
    // The last visit's values come back with its model, unless a remix brings its own.
    if (lastUsed?.endpointId === current.endpointId) {
      if (!seeding && !remixing && drafts[current.endpointId] === undefined) {
        const restored = restoreDraft(current, lastUsed.draft);
        setDrafts((prev) => ({ ...prev, [current.endpointId]: restored }));
      }
      setLastUsed(null);
    }
    // The prompt follows the person to the next model, into whichever field is its prompt.
    if (previous !== null && previous.endpointId !== current.endpointId && !remixing) {
      setDrafts((prev) => {
        const own = prev[current.endpointId] ?? initialDraft(current.fields);
        const carried = carryPrompt(previous, prev[previous.endpointId] ?? initialDraft(previous.fields), current, own);
        return carried === own ? prev : { ...prev, [current.endpointId]: carried };
      });
    }
    // The spec is the selected model's: the notices of the last model went with the switch.
    const about = selectionKey(false, current.endpointId, []);
    setNotices((prev) => [...prev.filter((notice) => notice.scope === about), ...messages.map((text) => ({ text, scope: about }))]);
  }
  // A remix's model is ready: its settings are filled in from the asset.
  if (pendingRemix !== null && current !== null && current.endpointId === pendingRemix.endpointId && uploads.spec?.endpointId === current.endpointId) {
    const { draft, leftOut } = seedDraft(current, pendingRemix.params);
    setDrafts((prev) => ({ ...prev, [current.endpointId]: draft }));
    // The remixed run's references replace what was attached: the form is that run again.
    const restored = restoreReferences(current, pendingRemix.references, uploadId);
    setUploads((prev) => ({ ...prev, items: restored.items }));
    setPendingRemix(null);
    setCarrying(true);
    const text = `${remixNotice(pendingRemix, restored)}${leftOutNote(leftOut)}`;
    setNotices((prev) => [...prev, { text, scope: selectionKey(false, current.endpointId, []) }]);
  }
  // A gallery image goes into the model's first image bucket, once there is a model that has one.
  if (
    pendingReference !== null &&
    current !== null &&
    !comparing &&
    uploads.spec?.endpointId === current.endpointId &&
    pendingReference.triedOn !== current.endpointId
  ) {
    const slotKey = referenceSlot(current);
    const slot = uploadSlots(current).find((candidate) => candidate.key === slotKey);
    if (slot === undefined) {
      setPendingReference({ ...pendingReference, triedOn: current.endpointId });
    } else {
      const item = { id: uploadId(), asset: pendingReference.ref };
      setUploads((prev) => ({ ...prev, items: addReference(prev.items, slot.key, slot.multiple, item) }));
      setPendingReference(null);
      // Not the stored file's name: fal names its outputs "output-0.png".
      const text = `Added the image from your gallery to ${slot.label}.`;
      setNotices((prev) => [...prev, { text, scope: selectionKey(false, current.endpointId, []), itemId: item.id }]);
    }
  }

  const shownNotices = noticesShown(notices, scope, uploads.items);

  /** Whether the selected model came from the catalog (so fal lists it). */
  const listed = selectedId !== null && names[selectedId] !== undefined;

  /** Another model, or another set compared: the notices about the last one go for good. */
  const keepNoticesOf = (next: string) =>
    setNotices((prev) => (prev.every((notice) => notice.scope === next) ? prev : prev.filter((notice) => notice.scope === next)));

  const setCompare = (ids: readonly string[] | null) => {
    keepNoticesOf(selectionKey(ids !== null, selectedId, ids ?? []));
    setSearch((prev) => {
      const next = new URLSearchParams(prev);
      if (ids === null) next.delete('compare');
      else next.set('compare', ids.join(','));
      return next;
    });
  };

  const onSelect = (model: Model) => {
    setNames((prev) => (prev[model.endpointId] === model.displayName ? prev : { ...prev, [model.endpointId]: model.displayName }));
    if (comparing) {
      if (compareIds.includes(model.endpointId)) setCompare(compareIds.filter((id) => id !== model.endpointId));
      else if (compareIds.length < COMPARE_MAX) setCompare([...compareIds, model.endpointId]);
      else setNotices([{ text: `Compare takes at most ${COMPARE_MAX} models: remove one first.`, scope }]);
      markRecent.mutate(model.endpointId);
      return;
    }
    setPicked(model);
    // On a phone the form is below the list: open it and go there.
    if (phone) {
      setFormOpen(true);
      setScrollToForm((count) => count + 1);
    }
    if (model.endpointId !== selectedId) {
      keepNoticesOf(selectionKey(false, model.endpointId, []));
      setSearch((prev) => {
        const next = new URLSearchParams(prev);
        next.set('model', model.endpointId);
        return next;
      });
    }
    markRecent.mutate(model.endpointId);
  };

  // The values typed for the selected model are kept for the next visit (not the uploads).
  const selectedDraft = selectedId === null ? undefined : drafts[selectedId];
  useEffect(() => {
    // Until the last visit's values are back, they are what is stored.
    if (storage === null || comparing || selectedId === null || lastUsed?.endpointId === selectedId) return;
    saveLastUsed(storage, user.id, { endpointId: selectedId, draft: selectedDraft ?? {} });
  }, [storage, comparing, selectedId, selectedDraft, lastUsed, user.id]);

  useEffect(() => {
    const panel = formPanel.current;
    if (scrollToForm === 0 || panel === null || typeof panel.scrollIntoView !== 'function') return;
    const still = typeof window.matchMedia === 'function' && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    panel.scrollIntoView({ block: 'start', behavior: still ? 'auto' : 'smooth' });
  }, [scrollToForm]);

  const addFiles = useCallback((key: string, files: File[], multiple: boolean) => {
    const added = files.map((file) => ({ id: uploadId(), file }));
    setUploads((prev) => ({
      ...prev,
      items: { ...prev.items, [key]: multiple ? [...(prev.items[key] ?? []), ...added] : added.slice(0, 1) },
    }));
  }, []);
  const removeFile = (key: string, id: string) =>
    setUploads((prev) => ({ ...prev, items: { ...prev.items, [key]: (prev.items[key] ?? []).filter((i) => i.id !== id) } }));

  // With a single image panel on the page, pasting an image anywhere attaches it there.
  const imageSlots = current === null ? [] : uploadSlots(current).filter((slot) => slot.accept === 'image');
  const pasteSlot = imageSlots.length === 1 && !comparing ? imageSlots[0] : undefined;
  const pasteKey = pasteSlot?.key;
  const pasteMultiple = pasteSlot?.multiple ?? false;
  useEffect(() => {
    if (pasteKey === undefined) return;
    const onPaste = (event: ClipboardEvent) => {
      if (event.defaultPrevented || event.clipboardData === null) return;
      const images = [...event.clipboardData.files].filter((file) => file.type.startsWith('image/'));
      if (images.length === 0) return;
      event.preventDefault();
      addFiles(pasteKey, pasteMultiple ? images : images.slice(0, 1), pasteMultiple);
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [pasteKey, pasteMultiple, addFiles]);

  useViewportTop(formPanelId);

  return (
    <Page title={routes.studio.title} wide>
      {/* Past the model list's many stops: keyboard users reach the prompt in a few presses. */}
      <SkipLink target={formPanelId} label="Skip to the form" />
      {keyUse.source === 'none' && (
        <Alert tone="info">
          {user.mayUseStudioKey
            ? 'The studio’s fal key is not set up yet. To generate now, add your own fal key in '
            : 'To generate images and videos, add your fal key in '}
          <Link to={routes.settings.path}>{routes.settings.title}</Link>.
        </Alert>
      )}
      <div className="studio">
        <ModelPicker selectedIds={comparing ? compareIds : selectedId === null ? [] : [selectedId]} onSelect={onSelect} />
        <div className={`studio-main${phone && !formOpen ? ' studio-main-folded' : ''}`} id={formPanelId} ref={formPanel}>
          {phone && (
            <button type="button" className="button form-toggle" aria-expanded={formOpen} aria-controls={formPanelId} onClick={() => setFormOpen((open) => !open)}>
              {formOpen ? 'Hide the form' : 'Show the form'}
            </button>
          )}
          <div className="mode-switch" role="group" aria-label="Mode">
            <button type="button" className="chip" aria-pressed={!comparing} onClick={() => setCompare(null)}>
              One model
            </button>
            <button
              type="button"
              className="chip"
              aria-pressed={comparing}
              onClick={() => !comparing && setCompare(selectedId === null ? [] : [selectedId])}
            >
              Compare models
            </button>
          </div>
          {intent.remix !== null && remixAsset.isPending && (
            <p className="muted card" role="status">
              Loading the gallery item to remix…
            </p>
          )}
          {intent.remix !== null && remixAsset.isError && (
            <Alert tone="error">Could not load the gallery item to remix: {remixAsset.error.message}</Alert>
          )}
          {intent.remixJob !== null && remixJob.isPending && (
            <p className="muted card" role="status">
              Loading the job to remix…
            </p>
          )}
          {intent.remixJob !== null && remixJob.isError && <Alert tone="error">Could not load the job to remix: {remixJob.error.message}</Alert>}
          {intent.reference !== null && referenceAsset.isError && (
            <Alert tone="error">Could not load the gallery item to use as a reference: {referenceAsset.error.message}</Alert>
          )}
          {pendingReference !== null && (
            <div className="alert alert-info notice" role="status" data-testid="reference-pending">
              <p>
                {current === null || comparing
                  ? 'Pick a model that takes reference images'
                  : `${current.displayName ?? current.endpointId} takes no reference image: pick a model that does`}
                {' '}and the image from your gallery will be attached.
              </p>
              <button type="button" className="button button-small" onClick={() => setPendingReference(null)}>
                Dismiss
              </button>
            </div>
          )}
          {shownNotices.length > 0 && (
            <div className="alert alert-info notice" role="status" data-testid="upload-notice">
              {shownNotices.map((text) => (
                <p key={text}>{text}</p>
              ))}
              <button type="button" className="button button-small" onClick={() => setNotices([])}>
                Dismiss
              </button>
            </div>
          )}
          {comparing && (
            <ResultViewerContext.Provider value={results.open}>
              <CompareMode
                ids={compareIds}
                names={names}
                onRemove={(id) => setCompare(compareIds.filter((other) => other !== id))}
                draftFor={(of) => draftFor(drafts, of)}
                onDraftChange={(endpointId, draft) => setDrafts((prev) => ({ ...prev, [endpointId]: draft }))}
                keyUse={keyUse}
                onGenerate={submit}
                run={compareRun}
                onRun={setCompareRun}
              />
            </ResultViewerContext.Provider>
          )}
          {!comparing && selectedId === null && <p className="placeholder card">Pick a model to start.</p>}
          {!comparing && selectedId !== null && spec.isPending && <FormSkeleton label="Loading the model’s settings…" />}
          {!comparing && selectedId !== null && spec.isError && (
            // A model picked from the catalog whose spec is missing: fal lists it without a form.
            <Alert tone={listed && isNoForm(spec.error) ? 'info' : 'error'}>
              {listed && isNoForm(spec.error) ? (
                <>
                  {noFormText(names[selectedId] ?? selectedId)} Pick another model.
                </>
              ) : (
                <>Could not load this model’s settings: {spec.error.message}</>
              )}
            </Alert>
          )}
          {!comparing && current !== null && (
            <ErrorBoundary key={current.endpointId} what="this model’s settings">
              <ModelForm
                spec={current}
                model={picked?.endpointId === current.endpointId ? picked : null}
                draft={draftFor(drafts, current)}
                onDraftChange={(draft) => setDrafts((prev) => ({ ...prev, [current.endpointId]: draft }))}
                uploads={uploads.spec?.endpointId === current.endpointId ? uploads.items : {}}
                onAddFiles={addFiles}
                onRemoveFile={removeFile}
                keyUse={keyUse}
                onGenerate={submit}
              />
            </ErrorBoundary>
          )}
        </div>
        <div className="studio-stage">
          <ResultViewerContext.Provider value={results.open}>
            <ErrorBoundary what="the results">
              <Stage />
            </ErrorBoundary>
            <ErrorBoundary what="the queue">
              <QueuePanel live={live} />
            </ErrorBoundary>
          </ResultViewerContext.Provider>
        </div>
      </div>
      {results.viewer}
    </Page>
  );
}
