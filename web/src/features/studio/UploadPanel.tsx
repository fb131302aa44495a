import { useCallback, useId, useState, type ClipboardEvent, type DragEvent } from 'react';
import { kindNoun, withArticle } from '../../lib/words';
import { ACCEPT_ATTRIBUTE, accepts, formatBytes, itemName, type UploadItem, type UploadSlot } from './uploads';

/**
 * A preview whose object URL lives exactly as long as the element: created when it mounts,
 * revoked on removal or unmount (a React 19 ref cleanup, so no state and no effect).
 */
function Preview({ file }: { file: File }) {
  const attach = useCallback(
    (element: HTMLImageElement | HTMLMediaElement | null) => {
      if (element === null) return;
      const url = URL.createObjectURL(file);
      element.src = url;
      return () => URL.revokeObjectURL(url);
    },
    [file],
  );
  if (file.type.startsWith('video/')) return <video ref={attach} className="preview" controls preload="metadata" />;
  if (file.type.startsWith('audio/')) return <audio ref={attach} className="preview-audio" controls preload="metadata" />;
  if (file.type.startsWith('image/')) return <img ref={attach} className="preview" alt={`Preview of ${file.name}`} />;
  return <span className="preview preview-none" aria-hidden="true" />;
}

/** Files from a paste or drop that suit the slot. */
export function pickFiles(slot: UploadSlot, files: Iterable<File>): { usable: File[]; refused: File[] } {
  const usable: File[] = [];
  const refused: File[] = [];
  for (const file of files) (accepts(slot.accept, file) ? usable : refused).push(file);
  return { usable, refused };
}

interface UploadPanelProps {
  slot: UploadSlot;
  items: readonly UploadItem[];
  error: string | undefined;
  onAdd: (files: File[]) => void;
  onRemove: (id: string) => void;
}

export function UploadPanel({ slot, items, error, onAdd, onRemove }: UploadPanelProps) {
  const id = useId();
  const [dragging, setDragging] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const total = items.reduce((sum, item) => sum + (item.file?.size ?? 0), 0);
  const files = items.filter((item) => item.file !== undefined).length;
  const kind = slot.accept === 'any' ? 'file' : slot.accept;

  const add = (files: Iterable<File>) => {
    const { usable, refused } = pickFiles(slot, files);
    setRefusal(refused.length > 0 ? `Not ${withArticle(kindNoun(kind))}: ${refused.map((f) => f.name).join(', ')}.` : null);
    if (usable.length > 0) onAdd(slot.multiple ? usable : usable.slice(0, 1));
  };

  const onDrop = (event: DragEvent<HTMLElement>) => {
    event.preventDefault();
    setDragging(false);
    add(event.dataTransfer.files);
  };
  const onPaste = (event: ClipboardEvent<HTMLElement>) => {
    if (event.clipboardData.files.length === 0) return;
    event.preventDefault();
    add(event.clipboardData.files);
  };

  const errorId = `${id}-error`;
  return (
    <section
      className={dragging ? 'upload-panel dragging' : 'upload-panel'}
      aria-labelledby={`${id}-label`}
      aria-describedby={error !== undefined ? errorId : undefined}
      data-slot={slot.key}
      tabIndex={0}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      onPaste={onPaste}
    >
      <h3 id={`${id}-label`} className="upload-title">
        {slot.label}
        {slot.required && (
          <span className="required-mark" aria-hidden="true">
            {' '}
            *
          </span>
        )}
      </h3>
      <p className="field-hint">
        Drop {slot.multiple ? kindNoun(kind, 2) : `one ${kindNoun(kind)}`} here, paste, or{' '}
        <label className="upload-choose" htmlFor={`${id}-input`}>
          choose {slot.multiple ? 'files' : 'a file'}
        </label>
        .{!slot.multiple && items.length > 0 && ' A new one replaces the current one.'}
      </p>
      <input
        id={`${id}-input`}
        className="visually-hidden"
        type="file"
        accept={ACCEPT_ATTRIBUTE[slot.accept]}
        multiple={slot.multiple}
        aria-required={slot.required || undefined}
        onChange={(event) => {
          if (event.target.files !== null) add(event.target.files);
          event.target.value = '';
        }}
      />
      {items.length > 0 && (
        <ul className="upload-list" aria-label={`${slot.label} files`}>
          {items.map((item) => (
            <li key={item.id} className="upload-item">
              {item.file !== undefined ? (
                <Preview file={item.file} />
              ) : item.asset.contentType.startsWith('image/') ? (
                <img className="preview preview-asset" src={item.asset.url} alt={`Preview of ${item.asset.fileName}`} decoding="async" />
              ) : (
                <span className="preview preview-none" aria-hidden="true" />
              )}
              <span className="upload-name">{itemName(item)}</span>
              <span className="muted">
                {item.file !== undefined ? formatBytes(item.file.size) : item.asset.source === 'job' ? 'from the remixed run' : 'from your gallery'}
              </span>
              <button
                type="button"
                className="button button-small"
                aria-label={`Remove ${itemName(item)}`}
                onClick={() => onRemove(item.id)}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <p className="field-hint upload-size">
        {items.length === 0
          ? 'Nothing attached. Files stay in your browser until you generate.'
          : files === 0
            ? `${items.length} already stored (nothing to upload).`
            : `${files} file${files === 1 ? '' : 's'}, ${formatBytes(total)} in all, sent when you generate${files < items.length ? `; ${items.length - files} already stored` : ''}.`}
      </p>
      {refusal !== null && <p className="field-error">{refusal}</p>}
      {error !== undefined && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </section>
  );
}
