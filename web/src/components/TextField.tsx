import { useId, type ChangeEvent, type HTMLInputTypeAttribute } from 'react';

interface TextFieldProps {
  label: string;
  name: string;
  value: string;
  onChange: (value: string) => void;
  type?: HTMLInputTypeAttribute;
  autoComplete?: string | undefined;
  hint?: string | undefined;
  /** A remark on the value as typed that does not stop it being saved (a warning, not an error). */
  note?: string | undefined;
  /** This field's own error. */
  error?: string | undefined;
  /** Id of a form-level error that also concerns this field (e.g. "wrong email or password"). */
  formErrorId?: string | undefined;
  disabled?: boolean;
  required?: boolean;
}

/** A labelled input whose hint and error are announced with it (`aria-describedby`). */
export function TextField({
  label,
  name,
  value,
  onChange,
  type = 'text',
  autoComplete,
  hint,
  note,
  error,
  formErrorId,
  disabled = false,
  required = false,
}: TextFieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const noteId = `${id}-note`;
  const describedBy = [
    hint !== undefined ? hintId : undefined,
    note !== undefined ? noteId : undefined,
    error !== undefined ? errorId : undefined,
    formErrorId,
  ]
    .filter((part) => part !== undefined)
    .join(' ');
  const invalid = error !== undefined || formErrorId !== undefined;

  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        type={type}
        value={value}
        autoComplete={autoComplete}
        required={required}
        disabled={disabled}
        aria-invalid={invalid}
        aria-describedby={describedBy === '' ? undefined : describedBy}
        onChange={(event: ChangeEvent<HTMLInputElement>) => onChange(event.target.value)}
      />
      {hint !== undefined && (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      )}
      {note !== undefined && (
        <p id={noteId} className="field-note">
          {note}
        </p>
      )}
      {error !== undefined && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}
