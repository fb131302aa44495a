// @vitest-environment happy-dom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobReference } from '../api/types';
import { RequestView } from './RequestView';

afterEach(cleanup);

const reference: JobReference = {
  id: 'ref-1',
  field: 'image_url',
  bucket: 'generalReferences',
  url: '/files/references/ref-1',
  contentType: 'image/png',
  fileName: 'fox.png',
  byteSize: 68,
};

const shown = () => JSON.parse((screen.getByRole('textbox', { name: 'JSON request' }) as HTMLTextAreaElement).value) as unknown;

describe('RequestView', () => {
  it('shows what the server recorded sending to fal when it has it', () => {
    const sent = { prompt: 'make it blue', image_url: 'https://v3.fal.media/files/upload/fox.png' };
    render(<RequestView endpointId="fal-ai/flux-pro/kontext" params={{ prompt: 'make it blue' }} references={[reference]} sentInput={sent} />);
    expect(shown()).toEqual(sent);
    expect(document.body.textContent).toContain('This is the input fal was sent.');
  });

  it("rebuilds it from the settings and the studio's own reference URLs before fal took the job", () => {
    render(<RequestView endpointId="fal-ai/flux-pro/kontext" params={{ prompt: 'make it blue' }} references={[reference]} />);
    expect(shown()).toEqual({ prompt: 'make it blue', image_url: `${window.location.origin}/files/references/ref-1` });
    expect(document.body.textContent).toContain('References are shown by their address in the studio.');
  });
});
