import { formatSpan, parseDuration } from '../model/duration';
import { badgeFor, deadlineView, latePeriods, remainingSubmissions, submitWarnings } from '../model/status';
import { NOW, assignment, submission } from './fixtures';

const HOUR = 3600e3;
const fetched = {
  fetched: true,
  path: 'demo/A1',
  files: ['a.ipynb'],
  notebooks: ['a.ipynb'],
  changed: false
};

describe('durations', () => {
  it('parses the ISO 8601 forms the service accepts', () => {
    expect(parseDuration('P1D')).toBe(24 * HOUR);
    expect(parseDuration('PT12H')).toBe(12 * HOUR);
    expect(parseDuration('P1W')).toBe(7 * 24 * HOUR);
    expect(parseDuration('P1DT6H30M')).toBe(30.5 * HOUR);
    expect(parseDuration('PT0,5H')).toBe(0.5 * HOUR);
    expect(parseDuration('P')).toBeNull();
    expect(parseDuration('P1Y')).toBeNull();
    expect(parseDuration('1 day')).toBeNull();
  });

  it('formats spans with their two largest units', () => {
    expect(formatSpan(50 * HOUR)).toBe('2 d 2 h');
    expect(formatSpan(3 * HOUR + 5 * 60e3 + 9e3)).toBe('3 h 5 min');
    expect(formatSpan(61e3)).toBe('1 min 1 s');
    expect(formatSpan(-5)).toBe('0 s');
  });
});

describe('badgeFor', () => {
  const a = assignment();
  it('not fetched, fetched', () => {
    expect(badgeFor(a, null, [])).toEqual({ kind: 'not-fetched', label: 'Not fetched' });
    expect(badgeFor(a, { ...fetched, fetched: false }, [])).toEqual({
      kind: 'not-fetched',
      label: 'Not fetched'
    });
    expect(badgeFor(a, fetched, [])).toEqual({ kind: 'fetched', label: 'Fetched' });
  });

  it('grading while the newest submission waits or runs', () => {
    expect(badgeFor(a, fetched, [submission({ auto_status: 'running' })]).kind).toBe('grading');
    const older = submission({
      id: 1,
      submitted_at: new Date(NOW - HOUR).toISOString(),
      auto_status: 'automatically_graded'
    });
    expect(badgeFor(a, fetched, [older, submission({ id: 2 })]).kind).toBe('grading');
  });

  it('graded with the score when the service shows it, without when it hides it', () => {
    const graded = submission({ auto_status: 'automatically_graded', score: 4, final_score: 4 });
    expect(badgeFor(a, fetched, [graded])).toEqual({ kind: 'graded', label: 'Graded: 4 / 5' });
    const hidden = submission({ auto_status: 'automatically_graded', score: null, final_score: null });
    expect(badgeFor(a, fetched, [hidden])).toEqual({ kind: 'graded', label: 'Graded' });
    const late = submission({
      auto_status: 'automatically_graded',
      score: 4,
      final_score: 2,
      late_scaling: 0.5
    });
    expect(badgeFor(a, fetched, [late]).label).toBe('Graded: 2 / 5');
  });

  it('feedback available, then submitted N of M when grading failed', () => {
    expect(
      badgeFor(a, fetched, [submission({ auto_status: 'automatically_graded', feedback_status: 'released' })])
        .kind
    ).toBe('feedback');
    expect(badgeFor(a, fetched, [submission({ auto_status: 'grading_failed' })])).toEqual({
      kind: 'submitted',
      label: 'Submitted 1 of 3'
    });
    expect(
      badgeFor(assignment({ max_submissions: null }), fetched, [
        submission({ auto_status: 'grading_failed' })
      ]).label
    ).toBe('Submitted 1×');
  });
});

describe('deadlines and late periods', () => {
  const a = assignment({
    late_periods: [
      { period: 'PT12H', scaling: 0.8 },
      { period: 'P1D', scaling: 0.5 }
    ]
  });
  const deadline = Date.parse(a.deadline!);

  it('describes each late period and its cost', () => {
    expect(latePeriods(a).map(p => p.text)).toEqual([
      'up to 12 h late: score × 0.8 (−20 %)',
      'up to 1 d late: score × 0.5 (−50 %)'
    ]);
  });

  it('counts down to the deadline', () => {
    const view = deadlineView(a, NOW);
    expect(view).toMatchObject({ phase: 'open', text: 'due in 2 d 2 h', scaling: 1 });
    expect(view.changesIn).toBe(50 * HOUR);
  });

  it('is late inside a period, with the scaling in force and the time left', () => {
    expect(deadlineView(a, deadline + HOUR)).toMatchObject({
      phase: 'late',
      scaling: 0.8,
      text: 'late by 1 h: score × 0.8 for 11 h more'
    });
    expect(deadlineView(a, deadline + 13 * HOUR).scaling).toBe(0.5);
  });

  it("uses the student's extended deadline when there is one", () => {
    const extended = assignment({ extended_deadline: new Date(deadline + 48 * HOUR).toISOString() });
    expect(deadlineView(extended, deadline + HOUR)).toMatchObject({ phase: 'open', text: 'due in 1 d 23 h' });
  });

  it('is closed after the last period, and says so when there is no deadline', () => {
    expect(deadlineView(a, deadline + 25 * HOUR)).toMatchObject({
      phase: 'closed',
      scaling: 0,
      changesIn: null
    });
    expect(deadlineView(assignment({ deadline: null, late_periods: [] }), NOW)).toMatchObject({
      phase: 'none',
      text: 'no deadline'
    });
  });
});

describe('submissions left and warnings', () => {
  it('counts what is left', () => {
    expect(remainingSubmissions(assignment(), [submission()])).toBe(2);
    expect(remainingSubmissions(assignment({ max_submissions: null }), [submission()])).toBeNull();
  });

  it('warns when late, on the last attempt and when none is left', () => {
    const a = assignment();
    const deadline = Date.parse(a.deadline!);
    expect(submitWarnings(a, [], NOW)).toEqual([]);
    expect(submitWarnings(a, [submission({ id: 1 }), submission({ id: 2 })], NOW)).toEqual([
      'This is your last submission: you cannot submit again afterwards.'
    ]);
    expect(submitWarnings(a, [], deadline + HOUR)[0]).toMatch(/late and its score is multiplied by 0.5/);
    expect(
      submitWarnings(
        a,
        [1, 2, 3].map(id => submission({ id })),
        deadline + 30 * HOUR
      )
    ).toEqual([
      'The deadline and every late period have passed: the service will refuse this submission.',
      'You have no submissions left: the service will refuse this one.'
    ]);
  });
});
