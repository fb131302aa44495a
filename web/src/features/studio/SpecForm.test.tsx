// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Field } from '../../api/types';
import { initialDraft, setAt, toParams, validateDraft, type Draft } from './formValues';
import { SpecFields } from './SpecForm';

afterEach(cleanup);

const f = (field: Partial<Field> & Pick<Field, 'name' | 'type'>): Field => ({ required: false, group: 'main', ...field });

const fields: Field[] = [
  f({ name: 'prompt', type: 'text', required: true, title: 'Prompt', minLength: 3, description: 'What to draw.' }),
  f({ name: 'negative', type: 'string', title: 'Negative prompt' }),
  f({ name: 'num_images', type: 'integer', title: 'Num Images', default: 1, minimum: 1, maximum: 4 }),
  f({ name: 'seed', type: 'integer', title: 'Seed' }),
  f({ name: 'strength', type: 'number', title: 'Strength', exclusiveMinimum: 0 }),
  f({ name: 'safety', type: 'boolean', title: 'Enable safety checker', default: true }),
  f({ name: 'format', type: 'enum', title: 'Output Format', enum: ['jpeg', 'png'], default: 'jpeg', required: true }),
  f({
    name: 'image_size',
    type: 'enum',
    title: 'Image Size',
    enum: ['square', 'landscape_4_3'],
    default: 'square',
    allowCustom: true,
    fields: [
      f({ name: 'width', type: 'integer', title: 'Width', required: true, minimum: 256, maximum: 4096 }),
      f({ name: 'height', type: 'integer', title: 'Height', required: true, minimum: 256, maximum: 4096 }),
    ],
  }),
  f({ name: 'tags', type: 'array', title: 'Tags', items: f({ name: 'item', type: 'string' }) }),
  f({ name: 'lora', type: 'object', title: 'LoRA', fields: [f({ name: 'path', type: 'string', title: 'Path', required: true })] }),
  f({ name: 'image_url', type: 'file', title: 'Image', required: true }),
  f({ name: 'steps', type: 'integer', title: 'Steps', default: 20, group: 'advanced', description: 'x'.repeat(200) }),
];

function Harness({ showAll = true }: { showAll?: boolean }) {
  const [draft, setDraft] = useState<Draft>(() => initialDraft(fields));
  const errors = showAll ? validateDraft(fields, draft) : {};
  return (
    <form>
      <SpecFields
        fields={fields}
        draft={draft}
        errors={errors}
        onChange={(path, value) => setDraft((prev) => setAt(prev, path, value))}
        onTouch={() => {}}
      />
      <output data-testid="params">{JSON.stringify(toParams(fields, draft))}</output>
    </form>
  );
}

describe('SpecFields', () => {
  it('renders one control per field type, with defaults', () => {
    render(<Harness />);
    expect(screen.getByLabelText(/^Prompt/).tagName).toBe('TEXTAREA');
    expect(screen.getByLabelText('Negative prompt').tagName).toBe('INPUT');
    expect((screen.getByRole('spinbutton', { name: 'Num Images' }) as HTMLInputElement).value).toBe('1');
    expect((screen.getByRole('slider', { name: 'Num Images slider' }) as HTMLInputElement).value).toBe('1');
    expect(screen.queryByRole('slider', { name: 'Seed slider' })).toBeNull();
    expect(screen.getByRole('spinbutton', { name: 'Seed' }).getAttribute('step')).toBe('1');
    const toggle = screen.getByRole('switch', { name: 'Enable safety checker' }) as HTMLInputElement;
    expect(toggle.checked).toBe(true);
    expect((screen.getByRole('combobox', { name: /^Output Format/ }) as HTMLSelectElement).value).toBe('jpeg');
    expect(screen.getByLabelText('Tags').tagName).toBe('TEXTAREA');
    expect(within(screen.getByRole('group', { name: 'LoRA' })).getByLabelText(/^Path/)).toBeTruthy();
    expect(screen.queryByLabelText(/^Image$/)).toBeNull();
  });

  it('marks required fields with * and aria-required, and shows help text', () => {
    render(<Harness showAll={false} />);
    const prompt = screen.getByLabelText(/^Prompt/);
    expect(prompt.getAttribute('aria-required')).toBe('true');
    expect(document.querySelector('label[for="' + prompt.id + '"]')?.textContent).toBe('Prompt *');
    expect(screen.getByLabelText('Negative prompt').getAttribute('aria-required')).toBeNull();
    const hint = document.getElementById(prompt.getAttribute('aria-describedby') ?? '');
    expect(hint?.textContent).toBe('What to draw.');
  });

  it('puts advanced fields in a closed "Advanced" section and folds long help', () => {
    render(<Harness />);
    const advanced = screen.getByText('Advanced').closest('details');
    expect(advanced?.open).toBe(false);
    expect(within(advanced as HTMLElement).getByRole('spinbutton', { name: 'Steps' })).toBeTruthy();
    expect(within(advanced as HTMLElement).getByText('More about Steps')).toBeTruthy();
  });

  it('shows a check message next to the field, linked with aria-describedby', async () => {
    render(<Harness />);
    const user = userEvent.setup();
    const prompt = screen.getByLabelText(/^Prompt/);
    expect(prompt.getAttribute('aria-invalid')).toBe('true');
    await user.type(prompt, 'ab');
    const error = screen.getByText('Use at least 3 characters.');
    expect(prompt.getAttribute('aria-describedby')).toContain(error.id);
    await user.type(prompt, 'c');
    expect(prompt.getAttribute('aria-invalid')).toBe('false');

    const count = screen.getByRole('spinbutton', { name: 'Num Images' });
    await user.clear(count);
    await user.type(count, '9');
    expect(screen.getByText('Must be at most 4.')).toBeTruthy();
    expect((screen.getByRole('slider', { name: 'Num Images slider' }) as HTMLInputElement).value).toBe('4');
    fireEvent.change(screen.getByRole('slider', { name: 'Num Images slider' }), { target: { value: '3' } });
    expect((count as HTMLInputElement).value).toBe('3');

    await user.type(screen.getByRole('spinbutton', { name: 'Strength' }), '0');
    expect(screen.getByText('Must be more than 0.')).toBeTruthy();
  });

  it('reveals the nested inputs of "Custom…" and sends them as an object', async () => {
    render(<Harness />);
    const user = userEvent.setup();
    expect(screen.queryByLabelText(/^Width/)).toBeNull();
    await user.selectOptions(screen.getByRole('combobox', { name: 'Image Size' }), 'Custom…');
    await user.type(screen.getByRole('spinbutton', { name: /^Width/ }), '1024');
    await user.type(screen.getByRole('spinbutton', { name: /^Height/ }), '100');
    expect(screen.getByText('Must be at least 256.')).toBeTruthy();
    await user.type(screen.getByRole('spinbutton', { name: /^Height/ }), '0');
    const params = JSON.parse(screen.getByTestId('params').textContent ?? '{}') as Record<string, unknown>;
    expect(params.image_size).toEqual({ width: 1024, height: 1000 });
  });

  it('offers only the listed options, plus an empty choice when the field is optional', () => {
    render(<Harness />);
    const format = screen.getByRole('combobox', { name: /^Output Format/ });
    // People read labels; the values sent stay the model's own.
    expect(within(format).getAllByRole('option').map((o) => o.textContent)).toEqual(['JPEG', 'PNG']);
    expect(within(format).getAllByRole('option').map((o) => (o as HTMLOptionElement).value)).toEqual(['jpeg', 'png']);
    const size = screen.getByRole('combobox', { name: 'Image Size' });
    expect(within(size).getAllByRole('option').map((o) => o.textContent)).toEqual([
      '(model default)',
      'Square',
      'Landscape 4:3',
      'Custom…',
    ]);
    expect(within(size).getAllByRole('option').map((o) => (o as HTMLOptionElement).value)).toEqual(['', 'square', 'landscape_4_3', '__custom__']);
  });

  it('renders a description’s Markdown safely: code, bold, links to http(s) only, no HTML', () => {
    const described: Field[] = [
      f({
        name: 'image_size',
        type: 'enum',
        title: 'Image Size',
        enum: ['square_hd', 'landscape_16_9', 'portrait_4_3'],
        description: 'Use `square_hd` for **sharp** results. See [the guide](https://fal.ai/docs) or [this](javascript:alert(1)).\n\n<img src=x onerror="alert(1)">',
      }),
    ];
    render(<SpecFields fields={described} draft={initialDraft(described)} errors={{}} onChange={() => {}} onTouch={() => {}} />);
    const select = screen.getByRole('combobox', { name: 'Image Size' });
    expect(within(select).getAllByRole('option').map((o) => o.textContent)).toEqual(['(model default)', 'Square HD', 'Landscape 16:9', 'Portrait 4:3']);
    const hint = document.getElementById(select.getAttribute('aria-describedby') ?? '');
    expect(hint?.querySelector('code')?.textContent).toBe('square_hd');
    expect(hint?.querySelector('strong')?.textContent).toBe('sharp');
    const links = [...(hint?.querySelectorAll('a') ?? [])];
    expect(links.map((a) => [a.textContent, a.getAttribute('href'), a.getAttribute('target'), a.getAttribute('rel')])).toEqual([
      ['the guide', 'https://fal.ai/docs', '_blank', 'noopener noreferrer'],
    ]);
    expect(hint?.querySelector('img')).toBeNull();
    expect(hint?.textContent).toContain('<img src=x onerror="alert(1)">');
  });
});
