import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../api/types';
import { falQueueLine, filesNote, formatElapsed, groupJobs, groupTitle, jobsToClear, promptOf, reconcileJobs, runNumbers, upsertJobs } from './jobs';
import { asset, job } from './test/jobs';

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 25, 10, 0, seconds)).toISOString();

describe('upsertJobs', () => {
  it('replaces a job by id and keeps the list newest first', () => {
    const a = job({ id: 'a', createdAt: at(1) });
    const b = job({ id: 'b', createdAt: at(2) });
    const list = upsertJobs([b, a], [{ ...a, status: 'running' }]);
    expect(list.map((j) => [j.id, j.status])).toEqual([
      ['b', 'queued'],
      ['a', 'running'],
    ]);
    expect(upsertJobs(list, [job({ id: 'c', createdAt: at(3) })]).map((j) => j.id)).toEqual(['c', 'b', 'a']);
  });

  it.each<[JobStatus, JobStatus, JobStatus]>([
    ['running', 'queued', 'running'],
    ['completed', 'running', 'completed'],
    ['queued', 'running', 'running'],
    ['running', 'failed', 'failed'],
    ['running', 'running', 'running'],
  ])('cached %s + incoming %s → %s (a job never moves back)', (cached, incoming, expected) => {
    const list = upsertJobs([job({ id: 'a', status: cached })], [job({ id: 'a', status: incoming })]);
    expect(list[0]?.status).toBe(expected);
  });

  it('drops hidden jobs', () => {
    expect(upsertJobs([job({ id: 'a' })], [job({ id: 'a', hidden: true })])).toEqual([]);
  });
});

describe('reconcileJobs', () => {
  it('takes the server list, keeps fresher snapshots and jobs created after the answer', () => {
    const cached = [
      job({ id: 'new', createdAt: at(9) }),
      job({ id: 'ahead', status: 'completed', createdAt: at(5) }),
      job({ id: 'gone', status: 'completed', createdAt: at(4) }),
    ];
    const answer = [job({ id: 'ahead', status: 'running', createdAt: at(5) }), job({ id: 'other', createdAt: at(3) })];
    expect(reconcileJobs(cached, answer).map((j) => [j.id, j.status])).toEqual([
      ['new', 'queued'],
      ['ahead', 'completed'],
      ['other', 'queued'],
    ]);
  });
});

describe('groupJobs', () => {
  it('groups by groupId, newest group first, jobs in the order asked for', () => {
    const jobs = [
      job({ id: 'x2', groupId: 'x', createdAt: at(2), status: 'completed' }),
      job({ id: 'y1', groupId: 'y', createdAt: at(5), groupLabel: 'Compare: a fox', status: 'running' }),
      job({ id: 'x1', groupId: 'x', createdAt: at(1), status: 'failed' }),
    ];
    const groups = groupJobs(jobs);
    expect(groups.map((g) => [g.groupId, g.jobs.map((j) => j.id), g.active])).toEqual([
      ['y', ['y1'], true],
      ['x', ['x1', 'x2'], false],
    ]);
    expect(groups.map(groupTitle)).toEqual(['Compare: a fox', 'Seedream 4.0 · a red fox']);
  });
});

describe('formatElapsed', () => {
  it.each([
    [0, '0:00'],
    [-5_000, '0:00'],
    [5_400, '0:05'],
    [65_000, '1:05'],
    [3_725_000, '1:02:05'],
  ])('%i ms → %s', (ms, text) => {
    expect(formatElapsed(ms)).toBe(text);
  });
});

describe('what Clear finished clears', () => {
  it('takes every finished job, or all but the failed ones', () => {
    const jobs = [
      job({ id: 'a1', groupId: 'A', status: 'completed' }),
      job({ id: 'a2', groupId: 'A', status: 'cancelled' }),
      job({ id: 'b1', groupId: 'B', status: 'completed' }),
      job({ id: 'b2', groupId: 'B', status: 'failed' }),
      job({ id: 'c1', groupId: 'C', status: 'running' }),
      job({ id: 'd1', groupId: 'D', status: 'running' }),
      job({ id: 'd2', groupId: 'D', status: 'completed' }),
      job({ id: 'e1', groupId: 'E', status: 'failed' }),
    ];
    const ids = (list: readonly { id: string }[]) => list.map((j) => j.id);
    expect(ids(jobsToClear(jobs, true))).toEqual(['a1', 'a2', 'b1', 'b2', 'd2', 'e1']);
    expect(ids(jobsToClear(jobs, false))).toEqual(['a1', 'a2', 'b1', 'd2']);
    expect(jobsToClear([], false)).toEqual([]);
  });
});

describe('promptOf', () => {
  it("reads the field the model's schema makes its prompt, else `prompt`", () => {
    expect(promptOf({ text: ' Hello there ', prompt: 'no' }, 'text')).toBe('Hello there');
    expect(promptOf({ prompt: 'a fox' })).toBe('a fox');
    expect(promptOf({ prompt: 'a fox' }, null)).toBe('a fox');
    expect(promptOf({ text: '   ' }, 'text')).toBeNull();
    expect(promptOf({ instruction: 42 }, 'instruction')).toBeNull();
  });
});

describe('falQueueLine', () => {
  it('counts from 1, as people do; fal’s 0 is next in line', () => {
    expect(falQueueLine(0)).toBe('In fal’s queue, next in line.');
    expect(falQueueLine(1)).toBe('In fal’s queue, position 2.');
    expect(falQueueLine(11)).toBe('In fal’s queue, position 12.');
  });
});

describe('filesNote', () => {
  const done = (assets: number, outputCount: number | null | undefined) =>
    job({ status: 'completed', assets: Array.from({ length: assets }, () => asset()), ...(outputCount === undefined ? {} : { outputCount }) });

  it('says fal returned no files only when it stored none (or cannot say, and none are left)', () => {
    expect(filesNote(done(0, 0))?.text).toBe('fal returned no files.');
    expect(filesNote(done(0, null))?.text).toBe('fal returned no files.');
    expect(filesNote(done(0, undefined))?.kind).toBe('none');
  });

  it('says files were deleted from the gallery when the job stored more than it still has', () => {
    expect(filesNote(done(0, 1))).toEqual({ kind: 'allDeleted', text: 'Its file was deleted from the gallery.' });
    expect(filesNote(done(0, 3))).toEqual({ kind: 'allDeleted', text: 'Its 3 files were deleted from the gallery.' });
    expect(filesNote(done(1, 3))).toEqual({ kind: 'someDeleted', text: '2 of 3 files deleted from the gallery.' });
  });

  it('says nothing when every file is there, or the job is not completed', () => {
    expect(filesNote(done(2, 2))).toBeNull();
    expect(filesNote(done(2, null))).toBeNull();
    expect(filesNote(job({ status: 'running', outputCount: null }))).toBeNull();
    expect(filesNote(job({ status: 'failed', outputCount: null }))).toBeNull();
  });
});

describe('runNumbers', () => {
  const of = (...endpoints: string[]) => endpoints.map((endpointId, i) => job({ id: `j${i}`, endpointId }));

  it('numbers the runs of one model', () => {
    expect([...runNumbers(of('a', 'a', 'a'))]).toEqual([
      ['j0', 1],
      ['j1', 2],
      ['j2', 3],
    ]);
  });

  it('numbers no job of a compare of different models, and counts a retried model among its own', () => {
    expect(runNumbers(of('tts', 'seedream', 'veo')).size).toBe(0);
    expect([...runNumbers(of('seedream', 'veo', 'seedream'))]).toEqual([
      ['j0', 1],
      ['j2', 2],
    ]);
    expect(runNumbers(of('a')).size).toBe(0);
  });
});
