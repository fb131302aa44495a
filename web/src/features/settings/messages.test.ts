import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/client';
import { saveKeyErrorMessage } from './messages';

describe('saveKeyErrorMessage', () => {
  it('explains a rejected key', () => {
    const error = new ApiError(401, { category: 'invalid_key', message: 'Invalid key' });
    expect(saveKeyErrorMessage(error)).toMatch(/^fal rejected this key/);
  });
  it('says fal could not be reached and nothing was saved', () => {
    const error = new ApiError(502, { category: 'network', message: 'fal timed out' });
    expect(saveKeyErrorMessage(error)).toMatch(/fal could not be reached.*nothing was saved/);
  });
  it('says the studio server could not be reached when no response arrived', () => {
    const error = new ApiError(0, { category: 'network', message: 'The studio server could not be reached.' });
    expect(saveKeyErrorMessage(error)).toBe('The studio server could not be reached. Nothing was saved.');
  });
  it('passes other messages through', () => {
    const error = new ApiError(429, { category: 'rate_limited', message: 'Slow down.' });
    expect(saveKeyErrorMessage(error)).toBe('Slow down.');
  });
});
