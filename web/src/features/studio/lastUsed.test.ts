import { describe, expect, it } from 'vitest';
import { CUSTOM, initialDraft } from './formValues';
import { MAX_STORED_TEXT, boundDraft, lastUsedKey, loadLastUsed, restoreDraft, saveLastUsed } from './lastUsed';
import { kontext, seedreamT2I } from './test/specs';

function memoryStorage() {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
}

describe('last used model and values', () => {
  it('round-trips per user, and one user never reads another’s', () => {
    const storage = memoryStorage();
    saveLastUsed(storage, 'u1', { endpointId: kontext.endpointId, draft: { prompt: 'a red fox', sync_mode: true } });
    expect(loadLastUsed(storage, 'u1')).toEqual({ endpointId: kontext.endpointId, draft: { prompt: 'a red fox', sync_mode: true } });
    expect(loadLastUsed(storage, 'u2')).toBeNull();
    expect([...storage.items.keys()]).toEqual([lastUsedKey('u1')]);
  });

  it('keeps no text longer than the bound, at any depth', () => {
    const long = 'x'.repeat(MAX_STORED_TEXT + 1);
    expect(boundDraft({ prompt: long, seed: '7', size: { choice: CUSTOM, custom: { width: long, height: '512' } } })).toEqual({
      seed: '7',
      size: { choice: CUSTOM, custom: { height: '512' } },
    });
  });

  it('reads nothing from what it did not write, and survives a storage that throws', () => {
    const storage = memoryStorage();
    for (const raw of ['not json', '[]', '{"version":99,"endpointId":"a","draft":{}}', '{"version":1,"endpointId":"","draft":{}}']) {
      storage.items.set(lastUsedKey('u1'), raw);
      expect(loadLastUsed(storage, 'u1')).toBeNull();
    }
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
      removeItem: () => undefined,
    };
    expect(loadLastUsed(broken, 'u1')).toBeNull();
    expect(() => saveLastUsed(broken, 'u1', { endpointId: 'a', draft: {} })).not.toThrow();
  });

  it('restores over the model’s current defaults: dropped fields go, new ones and changed kinds get their default', () => {
    const restored = restoreDraft(kontext, { prompt: 'a red fox', num_images: '3', sync_mode: 'yes', gone: 'x' });
    expect(restored).toEqual({ ...initialDraft(kontext.fields), prompt: 'a red fox', num_images: '3' });
    expect(restoreDraft(seedreamT2I, {}).image_size).toEqual(initialDraft(seedreamT2I.fields).image_size);
  });
});
