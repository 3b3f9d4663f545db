import React from 'react';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import * as api from '../api/grader';
import { GraderError } from '../api/request';
import type { Assignment, IValidationReport, Submission } from '../api/types';
import { AssignmentCard } from '../components/AssignmentCard';
import { SubmissionWatcher, announcements } from '../model/watcher';
import { CellResults } from '../components/CellResults';
import { Countdown } from '../components/Countdown';
import { StatusBadge } from '../components/StatusBadge';
import { SubmissionHistory, submissionStatusText } from '../components/SubmissionHistory';
import type { IGraderUI } from '../components/ui';
import { ValidationReport } from '../components/ValidationReport';
import { NOW, assignment, submission } from './fixtures';

jest.mock('../api/grader');
const mocked = api as jest.Mocked<typeof api>;

function recordingUI(over: Partial<IGraderUI> = {}): IGraderUI & { notes: string[] } {
  const notes: string[] = [];
  return {
    notes,
    watcher: new SubmissionWatcher(
      api.listSubmissions,
      (kind, message) => notes.push(`${kind}: ${message}`),
      20
    ),
    pollInterval: 20,
    openFolder: jest.fn(async () => undefined),
    openFile: jest.fn(async () => undefined),
    saveDocuments: jest.fn(async () => undefined),
    revertDocuments: jest.fn(async () => undefined),
    confirmSubmit: jest.fn(async () => true),
    confirmReset: jest.fn(async () => true),
    showValidation: jest.fn(async () => undefined),
    openFeedback: jest.fn(async () => undefined),
    notify: (kind: string, message: string) => notes.push(`${kind}: ${message}`),
    ...over
  };
}

const notFetched = { fetched: false, path: 'demo/A1', files: [], notebooks: [], changed: false };
const fetched = {
  fetched: true,
  path: 'demo/A1',
  files: ['a.ipynb', 'data.csv'],
  notebooks: ['a.ipynb'],
  changed: true
};

beforeEach(() => {
  jest.resetAllMocks();
});

describe('StatusBadge and ValidationReport', () => {
  it('labels the badge and exposes its kind', () => {
    render(<StatusBadge badge={{ kind: 'graded', label: 'Graded: 4 / 5' }} />);
    expect(screen.getByRole('status').textContent).toBe('Graded: 4 / 5');
    expect(screen.getByRole('status').dataset.status).toBe('graded');
  });

  it.each<[string, IValidationReport, RegExp]>([
    [
      'passed',
      { passed: true, notebooks: ['a.ipynb'], problems: [], duration: 1 },
      /Success: every visible test passed/
    ],
    ['empty', { passed: false, notebooks: [], problems: [], duration: 0 }, /no notebook to validate/],
    [
      'failed',
      {
        passed: false,
        notebooks: ['a.ipynb'],
        problems: [
          {
            notebook: 'a.ipynb',
            cell_index: 1,
            grade_id: 'mean',
            kind: 'unanswered',
            message: 'not filled in'
          },
          {
            notebook: 'a.ipynb',
            cell_index: 2,
            grade_id: 'test_mean',
            kind: 'failed_test',
            message: 'AssertionError'
          }
        ],
        duration: 2
      },
      /2 problems found\. Nothing was handed in\./
    ]
  ])('validation report: %s', (_, report, text) => {
    const { container } = render(<ValidationReport report={report} />);
    expect(container.textContent).toMatch(text);
    if (!report.passed && report.problems.length) {
      expect(container.textContent).toContain('Unanswered in a.ipynb, cell 2 (mean)');
      expect(container.textContent).toContain('Failing test in a.ipynb, cell 3 (test_mean)');
    }
  });
});

describe('Countdown', () => {
  it("shows the deadline, the countdown and the late periods; an extension as the student's own", () => {
    const a = assignment();
    const { container, rerender } = render(<Countdown assignment={a} now={() => NOW} />);
    expect(container.textContent).toContain('Deadline ');
    expect(container.textContent).toContain('due in 2 d 2 h');
    expect(container.textContent).toContain('up to 1 d late: score × 0.5 (−50 %)');
    const later = new Date(NOW + 74 * 3600e3).toISOString();
    rerender(<Countdown assignment={{ ...a, extended_deadline: later }} now={() => NOW} />);
    expect(container.textContent).toContain('Your extended deadline ');
    expect(container.textContent).toContain('due in 3 d 2 h');
  });
});

describe('AssignmentCard', () => {
  it('offers only Fetch before fetching; fetch opens the folder', async () => {
    mocked.localState.mockResolvedValueOnce(notFetched).mockResolvedValue(fetched);
    mocked.listSubmissions.mockResolvedValue([]);
    mocked.fetchAssignment.mockResolvedValue({
      path: 'demo/A1',
      action: 'cloned',
      commit: 'c',
      files: ['a.ipynb']
    });
    const ui = recordingUI();
    render(<AssignmentCard assignment={assignment()} ui={ui} />);
    const button = await screen.findByRole('button', { name: 'Fetch Assignment 1' });
    expect(screen.queryByRole('button', { name: 'Submit Assignment 1' })).toBeNull();
    expect(screen.getByText('3 of 3 submissions left')).toBeTruthy();
    fireEvent.click(button);
    await screen.findByRole('button', { name: 'Submit Assignment 1' });
    expect(ui.openFolder).toHaveBeenCalledWith('demo/A1');
    expect(screen.getByRole('button', { name: 'Open a.ipynb' })).toBeTruthy();
  });

  it('shows the readable message of a failed action', async () => {
    mocked.localState.mockResolvedValue(notFetched);
    mocked.listSubmissions.mockResolvedValue([]);
    mocked.fetchAssignment.mockRejectedValue(
      new GraderError(502, 'the grader service at http://x cannot be reached')
    );
    render(<AssignmentCard assignment={assignment()} ui={recordingUI()} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Fetch Assignment 1' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'the grader service at http://x cannot be reached'
    );
  });

  it('submits after confirming the files and warnings; the submission appears at once and is polled until graded', async () => {
    const created = submission({ id: 11 });
    const graded = submission({ id: 11, auto_status: 'automatically_graded', score: 4, final_score: 4 });
    const earlier = [
      submission({ id: 1, auto_status: 'automatically_graded', score: 2, final_score: 2 }),
      submission({ id: 2, auto_status: 'automatically_graded', score: 3, final_score: 3 })
    ].map(s => ({ ...s, submitted_at: '2026-12-01T00:00:00Z' }));
    mocked.localState.mockResolvedValue(fetched);
    mocked.listSubmissions
      .mockResolvedValueOnce(earlier)
      .mockResolvedValueOnce([created, ...earlier])
      .mockResolvedValue([graded, ...earlier]);
    mocked.submitAssignment.mockResolvedValue(created);
    const ui = recordingUI();
    render(<AssignmentCard assignment={assignment()} ui={ui} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Submit Assignment 1' }));
    await waitFor(() => expect(ui.confirmSubmit).toHaveBeenCalled());
    const [, files, warnings] = (ui.confirmSubmit as jest.Mock).mock.calls[0];
    expect(files).toEqual(['a.ipynb', 'data.csv']);
    expect(warnings).toEqual(['This is your last submission: you cannot submit again afterwards.']);
    expect(ui.saveDocuments).toHaveBeenCalledWith('demo/A1');
    await waitFor(() => expect(document.querySelector('[data-submission-id="11"]')).not.toBeNull());
    await waitFor(
      () => expect(document.querySelector('[data-status="graded"]')?.textContent).toBe('Graded: 4 / 5'),
      {
        timeout: 2000
      }
    );
    expect(ui.notes).toContain('success: Assignment 1: your submission is graded: 4 / 5');
    expect(screen.getByText('0 of 3 submissions left')).toBeTruthy();
  });

  it('says a closed assignment takes no more submissions', async () => {
    mocked.localState.mockResolvedValue(fetched);
    mocked.listSubmissions.mockResolvedValue([]);
    render(<AssignmentCard assignment={assignment({ status: 'closed' })} ui={recordingUI()} />);
    const submit = await screen.findByRole('button', { name: 'Submit Assignment 1' });
    expect((submit as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByText('Closed: no more submissions')).toBeTruthy();
  });

  it('does not submit when the student cancels', async () => {
    mocked.localState.mockResolvedValue(fetched);
    mocked.listSubmissions.mockResolvedValue([]);
    const ui = recordingUI({ confirmSubmit: jest.fn(async () => false) });
    render(<AssignmentCard assignment={assignment()} ui={ui} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Submit Assignment 1' }));
    await waitFor(() => expect(ui.confirmSubmit).toHaveBeenCalled());
    await act(async () => undefined);
    expect(mocked.submitAssignment).not.toHaveBeenCalled();
  });

  it('resets only after confirmation and names the backup', async () => {
    mocked.localState.mockResolvedValue(fetched);
    mocked.listSubmissions.mockResolvedValue([]);
    mocked.resetAssignment.mockResolvedValue({
      path: 'demo/A1',
      backup: 'demo/.backups/A1-1',
      files: [],
      commit: null
    });
    const ui = recordingUI();
    render(<AssignmentCard assignment={assignment()} ui={ui} />);
    fireEvent.click(
      await screen.findByRole('button', { name: 'Reset Assignment 1 to the released version' })
    );
    await waitFor(() => expect(ui.notes.join()).toContain('demo/.backups/A1-1'));
    expect(ui.confirmReset).toHaveBeenCalled();
    expect(ui.revertDocuments).toHaveBeenCalledWith('demo/A1');
  });

  it('validates and shows the report', async () => {
    const report = { passed: true, notebooks: ['a.ipynb'], problems: [], duration: 1 };
    mocked.localState.mockResolvedValue(fetched);
    mocked.listSubmissions.mockResolvedValue([]);
    mocked.validateAssignment.mockResolvedValue(report);
    const ui = recordingUI();
    render(<AssignmentCard assignment={assignment()} ui={ui} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Validate Assignment 1' }));
    await waitFor(() => expect(ui.showValidation).toHaveBeenCalledWith(expect.anything(), report));
  });
});

describe('history and announcements', () => {
  const a: Assignment = assignment();
  it('describes each submission', () => {
    expect(submissionStatusText(submission())).toBe('waiting for grading');
    expect(
      submissionStatusText(
        submission({ auto_status: 'automatically_graded', feedback_status: 'released', late_scaling: 0.5 })
      )
    ).toBe('graded · feedback available · late: score × 0.5');
  });

  it('lists submissions newest first with scores and a feedback button when released', async () => {
    const subs: Submission[] = [
      submission({
        id: 2,
        auto_status: 'automatically_graded',
        score: 4,
        final_score: 4,
        feedback_status: 'released'
      }),
      submission({ id: 1, auto_status: 'grading_failed' })
    ];
    mocked.getFeedback.mockResolvedValue({
      submission_id: 2,
      status: 'released',
      pages: [{ path: 'a.html', url: 'u' }]
    });
    const ui = recordingUI();
    const { container } = render(<SubmissionHistory assignment={a} submissions={subs} ui={ui} />);
    expect(container.querySelectorAll('li')[0].textContent).toMatch(/^#2.*4 \/ 5 points/);
    expect(container.querySelectorAll('li')[1].textContent).toContain('grading failed');
    fireEvent.click(screen.getByRole('button', { name: 'Open feedback of submission 2' }));
    await waitFor(() => expect(ui.openFeedback).toHaveBeenCalledWith(a, subs[0], 'a.html'));
  });

  it('announces grading and released feedback once', () => {
    const before = [
      submission({ id: 1, auto_status: 'running' }),
      submission({ id: 2, auto_status: 'automatically_graded' })
    ];
    const after = [
      submission({ id: 1, auto_status: 'automatically_graded', score: 5, final_score: 5 }),
      submission({ id: 2, auto_status: 'automatically_graded', feedback_status: 'released' })
    ];
    expect(announcements(a, before, after)).toEqual([
      ['success', 'Assignment 1: your submission is graded: 5 / 5'],
      ['info', 'Assignment 1: feedback on your submission is available']
    ]);
    expect(announcements(a, after, after)).toEqual([]);
  });
});

describe('CellResults', () => {
  const a = assignment();
  const s = submission({ id: 5, auto_status: 'automatically_graded' });
  const record = (over: Record<string, unknown> = {}) => ({
    submission_id: 5,
    graded: true,
    scores_visible: true,
    feedback_released: true,
    totals: { max_points: 5, score: 2, late_scaling: 0.5, final_score: 1 },
    notebooks: [
      {
        name: 'a.ipynb',
        max_points: 5,
        score: 2,
        cells: [
          {
            notebook: 'a.ipynb',
            grade_id: 'test_mean',
            kind: 'autograded_test',
            max_points: 2,
            score: 0,
            passed: false,
            error_output: 'AssertionError: mean([5])',
            hidden_tests: false
          },
          {
            notebook: 'a.ipynb',
            grade_id: 'test_edge',
            kind: 'autograded_test',
            max_points: 2,
            score: 2,
            passed: true,
            error_output: null,
            hidden_tests: true
          },
          {
            notebook: 'a.ipynb',
            grade_id: 'explain',
            kind: 'manual_answer',
            max_points: 1,
            score: null,
            needs_manual: true,
            comment: 'Say why.'
          }
        ]
      }
    ],
    ...over
  });

  it('says so when the service has no grading record route', async () => {
    mocked.serviceHas.mockResolvedValue(false);
    render(<CellResults assignment={a} submission={s} />);
    expect((await screen.findByText(/Per-cell results are not available/)).textContent).toBeTruthy();
    expect(mocked.getGrading).not.toHaveBeenCalled();
  });

  it('shows points, pass/fail, the error of a visible test, comments and the late total', async () => {
    mocked.serviceHas.mockResolvedValue(true);
    mocked.getGrading.mockResolvedValue(record());
    const { container } = render(<CellResults assignment={a} submission={s} />);
    await screen.findByText('test_mean');
    const row = (id: string) => container.querySelector(`[data-grade-id="${id}"]`)!.textContent;
    expect(row('test_mean')).toBe('test_meantest0 / 2failedAssertionError: mean([5])');
    expect(row('test_edge')).toContain('passed (with hidden tests)');
    expect(row('explain')).toContain('to be graded (1)');
    expect(row('explain')).toContain('Say why.');
    expect(container.textContent).toContain('Total 2 / 5, late: × 0.5 = 1');
  });

  it('hides points while the service hides scores', async () => {
    mocked.serviceHas.mockResolvedValue(true);
    mocked.getGrading.mockResolvedValue(
      record({
        scores_visible: false,
        totals: { max_points: 5, score: null, late_scaling: 1, final_score: null }
      })
    );
    const { container } = render(<CellResults assignment={a} submission={s} />);
    await screen.findByText('Scores are shown once your feedback is released.');
    expect(container.textContent).not.toContain('/ 2');
    expect(container.textContent).not.toContain('Total');
  });
});
