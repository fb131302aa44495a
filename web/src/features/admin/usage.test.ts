import { describe, expect, it } from 'vitest';
import type { UsageLine } from '../../api/types';
import { csvCell, csvFileName, estimateText, monthToDate, rangeProblem, usageCsv, usageTotal } from './usage';

describe('usage CSV', () => {
  it('has the header, one line per row, and CRLF line ends', () => {
    const rows: UsageLine[] = [
      { key: 'u1', label: 'ada@example.com', estimatedUsd: 0.06, jobs: 2, unpricedJobs: 0 },
      { key: 'u2', label: 'bob@example.com', estimatedUsd: 1.5, reconciledUsd: 1.25, jobs: 10, unpricedJobs: 3 },
    ];
    expect(usageCsv(rows)).toBe(
      'key,label,estimated_usd,reconciled_usd,jobs,unpriced_jobs\r\n' +
        'u1,ada@example.com,0.06,,2,0\r\n' +
        'u2,bob@example.com,1.5,1.25,10,3\r\n',
    );
  });

  it('is only the header when there are no rows', () => {
    expect(usageCsv([])).toBe('key,label,estimated_usd,reconciled_usd,jobs,unpriced_jobs\r\n');
  });

  it.each([
    ['plain text as is', 'FLUX.1 [dev]', 'FLUX.1 [dev]'],
    ['a comma quoted', 'Seedream, v4', '"Seedream, v4"'],
    ['quotes doubled', 'the "best" model', '"the ""best"" model"'],
    ['a line break quoted', 'two\nlines', '"two\nlines"'],
    ['a formula kept as text', '=HYPERLINK("http://x")', '"\'=HYPERLINK(""http://x"")"'],
    ['a leading plus kept as text', '+1', "'+1"],
    ['a leading at-sign kept as text', '@sum', "'@sum"],
    ['no value empty', null, ''],
    ['a whole number', 3, '3'],
    ['float noise rounded to the micro-dollar', 0.1 + 0.2, '0.3'],
    ['a tiny amount without an exponent', 0.0000015, '0.000002'],
  ])('%s', (_name, value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it('names the file after the grouping and the days', () => {
    expect(csvFileName('2026-12-01', '2026-12-04', 'model')).toBe('usage-by-model-2026-12-01-to-2026-12-04.csv');
  });
});

describe('estimates in words', () => {
  it('never reads as free when fal has no price', () => {
    expect(estimateText({ estimatedUsd: 0.06, jobs: 2, unpricedJobs: 0 }, 'en-US')).toBe('$0.06');
    expect(estimateText({ estimatedUsd: 0, jobs: 3, unpricedJobs: 3 }, 'en-US')).toBe('price unknown');
    expect(estimateText({ estimatedUsd: 0.06, jobs: 4, unpricedJobs: 2 }, 'en-US')).toBe('$0.06 + 2 jobs without a price');
    expect(estimateText({ estimatedUsd: 0.06, jobs: 4, unpricedJobs: 1 }, 'en-US')).toBe('$0.06 + 1 job without a price');
    // Nothing ran: nothing was spent, which is known.
    expect(estimateText({ estimatedUsd: 0, jobs: 0, unpricedJobs: 0 }, 'en-US')).toBe('$0.00');
  });

  it('adds up the rows, unpriced jobs too', () => {
    expect(
      usageTotal([
        { key: 'a', label: 'Veo 3', estimatedUsd: 0, jobs: 3, unpricedJobs: 3 },
        { key: 'b', label: 'FLUX', estimatedUsd: 0.06, jobs: 2, unpricedJobs: 0 },
      ]),
    ).toEqual({ estimatedUsd: 0.06, jobs: 5, unpricedJobs: 3 });
  });
});

describe('usage range', () => {
  it('defaults to this month so far, in UTC', () => {
    expect(monthToDate(new Date('2026-12-04T23:30:00Z'))).toEqual({ from: '2026-12-01', to: '2026-12-04' });
    expect(monthToDate(new Date('2027-01-01T00:00:00Z'))).toEqual({ from: '2027-01-01', to: '2027-01-01' });
  });

  it('refuses a missing day or a reversed range', () => {
    expect(rangeProblem('2026-12-01', '2026-12-04')).toBeNull();
    expect(rangeProblem('2026-12-04', '2026-12-04')).toBeNull();
    expect(rangeProblem('', '2026-12-04')).toMatch(/both days/);
    expect(rangeProblem('2026-12-05', '2026-12-04')).toMatch(/not be after/);
  });
});
