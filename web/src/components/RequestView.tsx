import { useId, useRef, useState, type KeyboardEvent } from 'react';
import type { JobReference, Spec } from '../api/types';
import { javascriptSnippet, pythonSnippet, requestInput, requestJson } from '../lib/falRequest';

const TABS = [
  { key: 'json', label: 'JSON' },
  { key: 'javascript', label: 'JavaScript' },
  { key: 'python', label: 'Python' },
] as const;
type TabKey = (typeof TABS)[number]['key'];

type CopyState = 'idle' | 'copied' | 'manual';

/** Copies with the Clipboard API; where it is missing or refused, selects the text for Ctrl+C. */
async function copyBlock(text: string, block: HTMLTextAreaElement | null): Promise<CopyState> {
  try {
    if (navigator.clipboard === undefined) throw new Error('no clipboard');
    await navigator.clipboard.writeText(text);
    return 'copied';
  } catch {
    block?.focus();
    block?.select();
    return 'manual';
  }
}

/** Tall enough for most requests; longer ones scroll. */
const MAX_ROWS = 18;

interface RequestViewProps {
  endpointId: string;
  params: Readonly<Record<string, unknown>>;
  references: readonly JobReference[];
  /** The model's spec when known: it says which reference fields take a list. */
  spec?: Spec | null;
  /** What the server recorded sending to fal (a job fal took): shown as it is when present. */
  sentInput?: Readonly<Record<string, unknown>> | null;
}

/**
 * What the studio sent to fal for a run, as JSON and as a call through fal's own clients, each
 * with a Copy button: to run the same request outside the studio, or to report it.
 */
export function RequestView({ endpointId, params, references, spec = null, sentInput = null }: RequestViewProps) {
  const id = useId();
  const [tab, setTab] = useState<TabKey>('json');
  const [copy, setCopy] = useState<CopyState>('idle');
  const block = useRef<HTMLTextAreaElement>(null);
  const tabRefs = useRef<Partial<Record<TabKey, HTMLButtonElement | null>>>({});

  const input = sentInput ?? requestInput(params, references, spec, window.location.origin);
  const text = tab === 'json' ? requestJson(input) : tab === 'javascript' ? javascriptSnippet(endpointId, input) : pythonSnippet(endpointId, input);

  const choose = (next: TabKey) => {
    setTab(next);
    setCopy('idle');
  };
  // Arrow keys move between tabs (the WAI-ARIA tabs pattern), Home and End to the ends.
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = TABS.findIndex((candidate) => candidate.key === tab);
    const last = TABS.length - 1;
    const target =
      event.key === 'ArrowRight' ? (index + 1) % TABS.length : event.key === 'ArrowLeft' ? (index + last) % TABS.length : event.key === 'Home' ? 0 : event.key === 'End' ? last : null;
    if (target === null) return;
    event.preventDefault();
    const next = TABS[target];
    if (next === undefined) return;
    choose(next.key);
    tabRefs.current[next.key]?.focus();
  };

  return (
    <div className="request-view" data-testid="request-view">
      <div className="request-tabs" role="tablist" aria-label="Request as" onKeyDown={onKeyDown}>
        {TABS.map((candidate) => (
          <button
            key={candidate.key}
            ref={(element) => {
              tabRefs.current[candidate.key] = element;
            }}
            type="button"
            role="tab"
            id={`${id}-${candidate.key}`}
            className="chip"
            aria-selected={tab === candidate.key}
            aria-controls={`${id}-panel`}
            tabIndex={tab === candidate.key ? 0 : -1}
            onClick={() => choose(candidate.key)}
          >
            {candidate.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${id}-panel`} aria-labelledby={`${id}-${tab}`} className="request-panel">
        {/* A read-only text box: named, focusable, scrollable by keyboard, and easy to select whole. */}
        <textarea
          ref={block}
          className="request-code"
          readOnly
          spellCheck={false}
          wrap="off"
          rows={Math.min(text.split('\n').length, MAX_ROWS)}
          value={text}
          aria-label={`${TABS.find((candidate) => candidate.key === tab)?.label ?? ''} request`}
        />
        <div className="request-actions">
          <button type="button" className="button button-small" onClick={() => void copyBlock(text, block.current).then(setCopy)}>
            Copy
          </button>
          <span className="muted" role="status">
            {copy === 'copied' ? 'Copied to the clipboard.' : copy === 'manual' ? 'Selected: press Ctrl+C (⌘C) to copy.' : ''}
          </span>
        </div>
        {references.length > 0 && sentInput !== null && (
          <p className="field-hint">
            This is the input fal was sent. A reference sent inline as a <code>data:</code> URI shows only its type and size
            here; to run this elsewhere, put a URL fal can reach in its place.
          </p>
        )}
        {references.length > 0 && sentInput === null && (
          <p className="field-hint">
            References are shown by their address in the studio. fal was sent each one as a <code>data:</code> URI (small
            files) or a fal storage URL; to run this elsewhere, put a URL fal can reach in their place.
          </p>
        )}
      </div>
    </div>
  );
}
