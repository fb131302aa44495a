import { useId, type ReactNode } from 'react';
import type { Field } from '../../api/types';
import { Markdown, markdownText } from '../../components/Markdown';
import { humanEnum } from '../../lib/words';
import { CUSTOM, fieldLabel, isFileField, type Draft, type DraftValue } from './formValues';

/** Descriptions longer than this are folded into a "More about …" disclosure. */
const LONG_HELP = 140;

export interface FieldProps {
  field: Field;
  value: DraftValue | undefined;
  /** Where the value lives in the draft (custom enums nest under `custom`). */
  draftPath: readonly string[];
  /** Where errors are keyed: the param path (`image_size.width`). */
  errorPath: string;
  errors: Readonly<Record<string, string>>;
  onChange: (draftPath: readonly string[], value: DraftValue) => void;
  onTouch: (errorPath: string) => void;
}

interface ControlIds {
  id: string;
  describedBy: string | undefined;
  invalid: boolean;
}

/** A field's description, its Markdown rendered safely; a long one folds into "More about …". */
function Help({ id, text, label }: { id: string; text: string; label: string }) {
  if (markdownText(text).length <= LONG_HELP) return <Markdown id={id} className="field-hint" text={text} />;
  return (
    <details className="field-help">
      <summary>More about {label}</summary>
      <Markdown id={id} className="field-hint" text={text} />
    </details>
  );
}

/** Label, required mark, help text and error around one control; hands the control its ids. */
function FieldShell({
  field,
  error,
  children,
  asGroup = false,
}: {
  field: Field;
  error: string | undefined;
  children: (ids: ControlIds) => ReactNode;
  asGroup?: boolean;
}) {
  const id = useId();
  const label = fieldLabel(field);
  const description = field.description?.trim() ?? '';
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy =
    [description !== '' ? hintId : undefined, error !== undefined ? errorId : undefined].filter(Boolean).join(' ') ||
    undefined;
  const required = field.required ? (
    <span className="required-mark" aria-hidden="true">
      {' '}
      *
    </span>
  ) : null;

  const body = (
    <>
      {children({ id, describedBy, invalid: error !== undefined })}
      {description !== '' && <Help id={hintId} text={description} label={label} />}
      {error !== undefined && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </>
  );

  if (asGroup) {
    return (
      <fieldset className="field field-group" aria-describedby={describedBy}>
        <legend>
          {label}
          {required}
        </legend>
        {body}
      </fieldset>
    );
  }
  return (
    <div className="field" data-field={field.name}>
      <label htmlFor={id}>
        {label}
        {required}
      </label>
      {body}
    </div>
  );
}

const text = (value: DraftValue | undefined) => (typeof value === 'string' ? value : '');
const nested = (value: DraftValue | undefined): Draft => (typeof value === 'object' ? value : {});

function a11y(field: Field, ids: ControlIds) {
  return {
    id: ids.id,
    'aria-required': field.required || undefined,
    'aria-invalid': ids.invalid,
    'aria-describedby': ids.describedBy,
  };
}

function TextInput({ field, value, draftPath, errorPath, errors, onChange, onTouch }: FieldProps) {
  return (
    <FieldShell field={field} error={errors[errorPath]}>
      {(ids) =>
        field.type === 'text' ? (
          <textarea
            {...a11y(field, ids)}
            name={errorPath}
            rows={4}
            value={text(value)}
            maxLength={field.maxLength ?? undefined}
            placeholder={typeof field.examples?.[0] === 'string' ? field.examples[0] : undefined}
            onChange={(event) => onChange(draftPath, event.target.value)}
            onBlur={() => onTouch(errorPath)}
          />
        ) : (
          <input
            {...a11y(field, ids)}
            name={errorPath}
            type="text"
            value={text(value)}
            onChange={(event) => onChange(draftPath, event.target.value)}
            onBlur={() => onTouch(errorPath)}
          />
        )
      }
    </FieldShell>
  );
}

function sliderStep(field: Field, min: number, max: number): number {
  if (field.type === 'integer') return 1;
  const span = max - min;
  if (span <= 1) return 0.01;
  if (span <= 20) return 0.1;
  return 1;
}

function NumberInput({ field, value, draftPath, errorPath, errors, onChange, onTouch }: FieldProps) {
  const min = field.minimum ?? field.exclusiveMinimum ?? undefined;
  const max = field.maximum ?? field.exclusiveMaximum ?? undefined;
  const current = text(value);
  const label = fieldLabel(field);
  return (
    <FieldShell field={field} error={errors[errorPath]}>
      {(ids) => {
        const numberInput = (
          <input
            {...a11y(field, ids)}
            name={errorPath}
            type="number"
            inputMode={field.type === 'integer' ? 'numeric' : 'decimal'}
            step={field.type === 'integer' ? 1 : 'any'}
            min={field.minimum ?? undefined}
            max={field.maximum ?? undefined}
            value={current}
            onChange={(event) => onChange(draftPath, event.target.value)}
            onBlur={() => onTouch(errorPath)}
          />
        );
        if (min === undefined || max === undefined) return numberInput;
        const parsed = Number(current);
        const position = current.trim() === '' || !Number.isFinite(parsed) ? min : Math.min(max, Math.max(min, parsed));
        return (
          <div className="slider-row">
            <input
              type="range"
              className="slider"
              aria-label={`${label} slider`}
              min={min}
              max={max}
              step={sliderStep(field, min, max)}
              value={position}
              onChange={(event) => {
                onChange(draftPath, event.target.value);
                onTouch(errorPath);
              }}
            />
            {numberInput}
          </div>
        );
      }}
    </FieldShell>
  );
}

function BooleanInput({ field, value, draftPath, errorPath, errors, onChange }: FieldProps) {
  const id = useId();
  const error = errors[errorPath];
  const description = field.description?.trim() ?? '';
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy =
    [description !== '' ? hintId : undefined, error !== undefined ? errorId : undefined].filter(Boolean).join(' ') ||
    undefined;
  return (
    <div className="field field-switch" data-field={field.name}>
      <label className="switch" htmlFor={id}>
        <input
          id={id}
          name={errorPath}
          type="checkbox"
          role="switch"
          checked={value === true}
          aria-checked={value === true}
          aria-invalid={error !== undefined}
          aria-describedby={describedBy}
          onChange={(event) => onChange(draftPath, event.target.checked)}
        />
        <span className="switch-track" aria-hidden="true" />
        <span>{fieldLabel(field)}</span>
      </label>
      {description !== '' && <Help id={hintId} text={description} label={fieldLabel(field)} />}
      {error !== undefined && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

function EnumInput(props: FieldProps) {
  const { field, value, draftPath, errorPath, errors, onChange, onTouch } = props;
  const custom = field.allowCustom === true;
  const choice = custom ? text(nested(value).choice) : text(value);
  const options = field.enum ?? [];
  return (
    <FieldShell field={field} error={custom && choice === CUSTOM ? undefined : errors[errorPath]}>
      {(ids) => (
        <>
          <select
            {...a11y(field, ids)}
            name={errorPath}
            value={choice}
            onChange={(event) => {
              onChange(custom ? [...draftPath, 'choice'] : draftPath, event.target.value);
              onTouch(errorPath);
            }}
          >
            {(choice === '' || !field.required) && (
              <option value="">{field.required ? 'Choose…' : '(model default)'}</option>
            )}
            {options.map((option) => (
              // The label is for people; the value sent is the model's own.
              <option key={String(option)} value={String(option)}>
                {humanEnum(option)}
              </option>
            ))}
            {custom && <option value={CUSTOM}>Custom…</option>}
          </select>
          {custom && choice === CUSTOM && (
            <div className="custom-fields">
              {(field.fields ?? []).map((child) => (
                <FieldInput
                  {...props}
                  key={child.name}
                  field={child}
                  value={nested(nested(value).custom)[child.name]}
                  draftPath={[...draftPath, 'custom', child.name]}
                  errorPath={`${errorPath}.${child.name}`}
                />
              ))}
            </div>
          )}
        </>
      )}
    </FieldShell>
  );
}

function ListInput({ field, value, draftPath, errorPath, errors, onChange, onTouch }: FieldProps) {
  const shell = { ...field, description: [field.description?.trim(), 'One item per line, or separated by commas.'].filter(Boolean).join(' ') };
  return (
    <FieldShell field={shell} error={errors[errorPath]}>
      {(ids) => (
        <textarea
          {...a11y(field, ids)}
          name={errorPath}
          rows={2}
          value={text(value)}
          onChange={(event) => onChange(draftPath, event.target.value)}
          onBlur={() => onTouch(errorPath)}
        />
      )}
    </FieldShell>
  );
}

function ObjectInput(props: FieldProps) {
  const { field, value, draftPath, errorPath } = props;
  return (
    <FieldShell field={field} error={props.errors[errorPath]} asGroup>
      {() =>
        (field.fields ?? []).map((child) => (
          <FieldInput
            {...props}
            key={child.name}
            field={child}
            value={nested(value)[child.name]}
            draftPath={[...draftPath, child.name]}
            errorPath={`${errorPath}.${child.name}`}
          />
        ))
      }
    </FieldShell>
  );
}

/** One control per field type. File fields are not rendered here: they are upload panels. */
export function FieldInput(props: FieldProps) {
  switch (props.field.type) {
    case 'text':
    case 'string':
      return <TextInput {...props} />;
    case 'integer':
    case 'number':
      return <NumberInput {...props} />;
    case 'boolean':
      return <BooleanInput {...props} />;
    case 'enum':
      return <EnumInput {...props} />;
    case 'array':
      return <ListInput {...props} />;
    case 'object':
      return <ObjectInput {...props} />;
    default:
      return null;
  }
}

interface SpecFieldsProps {
  fields: readonly Field[];
  draft: Draft;
  errors: Readonly<Record<string, string>>;
  onChange: (draftPath: readonly string[], value: DraftValue) => void;
  onTouch: (errorPath: string) => void;
}

/** The form's fields: main ones first, `group: "advanced"` inside a closed "Advanced" section. */
export function SpecFields({ fields, draft, errors, onChange, onTouch }: SpecFieldsProps) {
  const visible = fields.filter((field) => !isFileField(field));
  const render = (field: Field) => (
    <FieldInput
      key={field.name}
      field={field}
      value={draft[field.name]}
      draftPath={[field.name]}
      errorPath={field.name}
      errors={errors}
      onChange={onChange}
      onTouch={onTouch}
    />
  );
  const main = visible.filter((field) => field.group !== 'advanced');
  const advanced = visible.filter((field) => field.group === 'advanced');
  const advancedErrors = Object.keys(errors).filter((path) =>
    advanced.some((field) => path === field.name || path.startsWith(`${field.name}.`)),
  ).length;
  return (
    <>
      {main.map(render)}
      {advanced.length > 0 && (
        <details className="advanced">
          <summary>
            Advanced
            {advancedErrors > 0 && (
              <span className="field-error"> ({advancedErrors === 1 ? '1 problem' : `${advancedErrors} problems`})</span>
            )}
          </summary>
          <div className="advanced-fields">{advanced.map(render)}</div>
        </details>
      )}
    </>
  );
}
