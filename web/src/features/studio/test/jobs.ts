/** Jobs and assets in the server's shape, for tests. */
import type { Asset, Job } from '../../../api/types';

let counter = 0;

export function job(extra: Partial<Job> = {}): Job {
  const id = extra.id ?? `job-${++counter}`;
  return {
    id,
    groupId: `group-${id}`,
    groupLabel: null,
    endpointId: 'fal-ai/bytedance/seedream/v4/text-to-image',
    modelName: 'Seedream 4.0',
    status: 'queued',
    queuePosition: null,
    logs: [],
    error: null,
    assets: [],
    references: [],
    params: { prompt: 'a red fox' },
    estimate: null,
    requestId: null,
    createdAt: '2026-11-25T10:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    hidden: false,
    ...extra,
  };
}

export function asset(extra: Partial<Asset> = {}): Asset {
  const id = extra.id ?? `asset-${++counter}`;
  return {
    id,
    jobId: 'job',
    endpointId: 'fal-ai/bytedance/seedream/v4/text-to-image',
    model: 'fal-ai/bytedance/seedream/v4/text-to-image',
    prompt: 'a red fox',
    resultKind: 'image',
    storageMode: 'local',
    url: `/files/${id}`,
    downloadUrl: `/files/${id}?download=1`,
    contentType: 'image/png',
    byteSize: 1234,
    starred: false,
    fileName: `${id}.png`,
    params: {},
    createdAt: '2026-11-25T10:00:05.000Z',
    ...extra,
  };
}
