/** Hand-written specs in the server's derived shape, modelled on the fixtures in fixtures/fal-schemas. */
import type { Field, Model, Spec } from '../../../api/types';

const prompt = (extra: Partial<Field> = {}): Field => ({
  name: 'prompt',
  type: 'text',
  required: true,
  title: 'Prompt',
  group: 'main',
  ...extra,
});

export const kontext: Spec = {
  endpointId: 'fal-ai/flux-pro/kontext',
  displayName: 'FLUX.1 Kontext [pro]',
  category: 'image-to-image',
  outputKind: 'image',
  fields: [
    { name: 'image_url', type: 'file', required: true, title: 'Image URL', group: 'main', accept: 'image' },
    prompt({ minLength: 3, maxLength: 5000 }),
    {
      name: 'aspect_ratio',
      type: 'enum',
      required: false,
      title: 'Aspect Ratio',
      group: 'main',
      enum: ['21:9', '16:9', '4:3', '3:2', '1:1', '2:3', '3:4', '9:16', '9:21'],
    },
    { name: 'num_images', type: 'integer', required: false, default: 1, minimum: 1, maximum: 4, title: 'Num Images', group: 'main' },
    { name: 'output_format', type: 'enum', required: false, default: 'jpeg', enum: ['jpeg', 'png'], title: 'Output Format', group: 'main' },
    { name: 'sync_mode', type: 'boolean', required: false, default: false, title: 'Sync Mode', group: 'advanced' },
    { name: 'guidance_scale', type: 'number', required: false, default: 3.5, minimum: 1, maximum: 20, title: 'Guidance scale (CFG)', group: 'advanced' },
    { name: 'seed', type: 'integer', required: false, title: 'Seed', group: 'advanced' },
  ],
  buckets: { generalReferences: { field: 'image_url', multiple: false } },
  price: { unitPrice: 0.04, unit: 'image', currency: 'USD' },
};

export const nanoBananaEdit: Spec = {
  endpointId: 'fal-ai/nano-banana/edit',
  displayName: 'Nano Banana Edit',
  category: 'image-to-image',
  outputKind: 'image',
  fields: [
    prompt({ minLength: 3 }),
    { name: 'image_urls', type: 'files', required: true, title: 'Image URLs', group: 'main', accept: 'image', minItems: 1, maxItems: 10 },
    { name: 'strength', type: 'number', required: false, default: 0.75, minimum: 0, maximum: 1, title: 'Edit Strength', group: 'main' },
  ],
  buckets: { generalReferences: { field: 'image_urls', multiple: true } },
  price: null,
};

export const seedreamT2I: Spec = {
  endpointId: 'fal-ai/bytedance/seedream/v4/text-to-image',
  displayName: 'Seedream 4.0',
  category: 'text-to-image',
  outputKind: 'image',
  fields: [
    prompt(),
    {
      name: 'image_size',
      type: 'enum',
      required: false,
      title: 'Image Size',
      group: 'main',
      enum: ['square_hd', 'square', 'portrait_4_3'],
      allowCustom: true,
      default: { width: 2048, height: 2048 },
      fields: [
        { name: 'width', type: 'integer', required: true, minimum: 256, maximum: 4096, title: 'Width', group: 'main' },
        { name: 'height', type: 'integer', required: true, minimum: 256, maximum: 4096, title: 'Height', group: 'main' },
      ],
    },
    { name: 'num_images', type: 'integer', required: false, default: 1, minimum: 1, maximum: 6, title: 'Num Images', group: 'main' },
  ],
  buckets: {},
  price: { unitPrice: 0.03, unit: 'image', currency: 'USD' },
};

export const veoFirstLast: Spec = {
  endpointId: 'fal-ai/veo3.1/first-last-frame-to-video',
  displayName: 'Veo 3.1 First/Last Frame',
  category: 'image-to-video',
  outputKind: 'video',
  fields: [
    { name: 'first_frame_url', type: 'file', required: true, title: 'First Frame', group: 'main', accept: 'image' },
    { name: 'last_frame_url', type: 'file', required: true, title: 'Last Frame', group: 'main', accept: 'image' },
    prompt(),
    { name: 'mask_url', type: 'file', required: false, title: 'Mask', group: 'main', accept: 'image' },
  ],
  buckets: {
    firstFrame: { field: 'first_frame_url', multiple: false },
    lastFrame: { field: 'last_frame_url', multiple: false },
  },
  price: null,
};

export const asModel = (spec: Spec, extra: Partial<Model> = {}): Model => ({
  endpointId: spec.endpointId,
  displayName: spec.displayName ?? spec.endpointId,
  category: spec.category ?? null,
  description: null,
  thumbnailUrl: null,
  status: 'active',
  price: spec.price ?? null,
  ...extra,
});

export const png = (name: string) => new File([new Uint8Array([137, 80, 78, 71])], name, { type: 'image/png' });
