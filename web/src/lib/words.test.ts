import { describe, expect, it } from 'vitest';
import { bucketLabel, BUCKET_LABELS } from './buckets';
import { formatUnitPrice } from './money';
import { countOf, fieldSentence, formatClock, formatDuration, humanEnum, kindNoun, plural, unitCount, unitNoun, withArticle } from './words';

describe('humanEnum', () => {
  it.each([
    ['square_hd', 'Square HD'],
    ['square', 'Square'],
    ['landscape_16_9', 'Landscape 16:9'],
    ['portrait_4_3', 'Portrait 4:3'],
    ['landscape_4_3', 'Landscape 4:3'],
    ['text-to-image', 'Text to image'],
    ['image-to-video', 'Image to video'],
    ['jpeg', 'JPEG'],
    ['png', 'PNG'],
    ['webp', 'WebP'],
    ['mp4', 'MP4'],
    ['4k', '4K'],
    ['1080p', '1080p'],
    ['sd_1_5', 'SD 1 5'],
    ['square_1_1', 'Square 1:1'],
    ['image_url', 'Image URL'],
    ['request_id', 'Request ID'],
    ['tts', 'TTS'],
    ['v2_master', 'v2 master'],
    ['first_last_frame', 'First last frame'],
    // Capitals joined by `_`: still a machine's value, its words' case kept.
    ['auto_2K', 'Auto 2K'],
    ['auto_4K', 'Auto 4K'],
    ['square_HD', 'Square HD'],
    ['landscape_16_9_HD', 'Landscape 16:9 HD'],
    ['HD_1080p', 'HD 1080p'],
    ['Pro_Max', 'Pro Max'],
    ['auto_Webp', 'Auto WebP'],
    // Already for people, or not a name at all: as it is.
    ['16:9', '16:9'],
    ['HD', 'HD'],
    ['2K', '2K'],
    ['1080p', '1080p'],
    ['Auto', 'Auto'],
    ['Sci-Fi', 'Sci-Fi'],
    ['Realistic Photo', 'Realistic Photo'],
    ['DPM++ 2M Karras', 'DPM++ 2M Karras'],
    ['a red fox', 'a red fox'],
    ['', ''],
  ])('%s → %s', (value, label) => {
    expect(humanEnum(value)).toBe(label);
  });

  it('writes numbers and booleans as they are', () => {
    expect(humanEnum(4)).toBe('4');
    expect(humanEnum(true)).toBe('true');
  });
});

describe('plurals and units', () => {
  it('puts the noun in the right number', () => {
    expect(countOf(1, 'second')).toBe('1 second');
    expect(countOf(8, 'second')).toBe('8 seconds');
    expect(countOf(0, 'job')).toBe('0 jobs');
    expect(countOf(1.5, 'megapixel')).toBe('1.5 megapixels');
    expect(plural(2, 'child', 'children')).toBe('children');
  });

  it.each([
    ['seconds', 1, 'second'],
    ['seconds', 8, 'seconds'],
    ['second', 8, 'seconds'],
    ['image', 1, 'image'],
    ['images', 3, 'images'],
    ['megapixels', 1, 'megapixel'],
    ['Minutes', 2, 'minutes'],
    ['audio', 3, 'audio'],
    ['query', 2, 'queries'],
    ['gpu_seconds', 1, 'gpu second'],
    ['1k tokens', 1, '1k tokens'],
    ['', 2, 'units'],
  ])('%s × %d → %s', (unit, count, noun) => {
    expect(unitNoun(unit, count)).toBe(noun);
  });

  it('says prices per unit and counts of units', () => {
    expect(formatUnitPrice({ unitPrice: 0.28, unit: 'seconds', currency: 'USD' }, 'en-US')).toBe('$0.28 per second');
    expect(formatUnitPrice({ unitPrice: 0.03, unit: 'image', currency: 'USD' }, 'en-US')).toBe('$0.03 per image');
    expect(formatUnitPrice({ unitPrice: 0.0025, unit: 'megapixels', currency: 'USD' }, 'en-US')).toBe('$0.0025 per megapixel');
    expect(unitCount(8, 'seconds')).toBe('8 seconds');
    expect(unitCount(1, 'seconds')).toBe('1 second');
    expect(unitCount(2, '1k tokens')).toBe('2 × 1k tokens');
  });

  it('names kinds of file', () => {
    expect(withArticle(kindNoun('image'))).toBe('an image');
    expect(withArticle(kindNoun('video'))).toBe('a video');
    expect(withArticle(kindNoun('audio'))).toBe('an audio file');
    expect(kindNoun('audio', 2)).toBe('audio files');
    expect(kindNoun('file', 2)).toBe('files');
  });
});

describe('lengths of time', () => {
  it.each([
    [0.8, '0.8 seconds'],
    [1, '1 second'],
    [1.04, '1 second'],
    [8, '8 seconds'],
    [8.04, '8 seconds'],
    [12.4, '12 seconds'],
    [59.7, '1 minute'],
    [60, '1 minute'],
    [125, '2 minutes 5 seconds'],
    [61, '1 minute 1 second'],
    [3780, '1 hour 3 minutes'],
    [-1, '—'],
    [Number.NaN, '—'],
  ])('%s s → %s', (seconds, words) => {
    expect(formatDuration(seconds)).toBe(words);
  });

  it.each([
    [8, '0:08'],
    [7.6, '0:08'],
    [0.3, '0:01'],
    [0, '0:00'],
    [65, '1:05'],
    [3723, '1:02:03'],
  ])('%s s on a clock → %s', (seconds, clock) => {
    expect(formatClock(seconds)).toBe(clock);
  });
});

describe('bucket labels', () => {
  it('never shows a bucket’s code name', () => {
    expect(BUCKET_LABELS).toEqual({
      generalReferences: 'References',
      firstFrame: 'First frame',
      lastFrame: 'Last frame',
      storyboardReference: 'Storyboard reference',
    });
    expect(bucketLabel('firstFrame')).toBe('First frame');
    expect(bucketLabel('storyboardReference')).toBe('Storyboard reference');
    expect(bucketLabel('image_url')).toBe('Image url');
    expect(bucketLabel('someNewBucket')).toBe('Some new bucket');
  });
});

describe('fieldSentence', () => {
  it.each([
    ['Password', 'must be 8 to 1024 characters', 'Password must be 8 to 1024 characters.'],
    ['Email', 'not a valid email address', 'Email is not a valid email address.'],
    ['Email', 'already registered', 'Email is already registered.'],
    ['Email', 'is taken.', 'Email is taken.'],
    ['Name', 'cannot be empty', 'Name cannot be empty.'],
    ['Password', 'Use a password of 8 to 1024 characters.', 'Use a password of 8 to 1024 characters.'],
    ['Password', 'Use 8 characters or more', 'Use 8 characters or more.'],
    ['Seed', 'whole numbers only', 'Seed: whole numbers only.'],
    ['Email', '', 'Check the email.'],
  ])('%s + "%s" → %s', (label, message, sentence) => {
    expect(fieldSentence(label, message)).toBe(sentence);
  });
});
