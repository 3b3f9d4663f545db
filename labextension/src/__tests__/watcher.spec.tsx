import React from 'react';
import { render, screen, waitFor } from '@testing-library/react';
import * as api from '../api/grader';
import { AssignmentCard } from '../components/AssignmentCard';
import type { IGraderUI } from '../components/ui';
import { SubmissionWatcher, pending } from '../model/watcher';
import { assignment, submission } from './fixtures';

jest.mock('../api/grader');
const mocked = api as jest.Mocked<typeof api>;
const running = submission({ id: 3, auto_status: 'running' });
const graded = submission({ id: 3, auto_status: 'automatically_graded', score: 4, final_score: 4 });
const released = { ...graded, feedback_status: 'released' as const };

beforeEach(() => jest.resetAllMocks());

describe('pending', () => {
  it('is grading, then feedback, then nothing', () => {
    expect(pending([running])).toBe('grading');
    expect(pending([graded])).toBe('feedback');
    expect(pending([released])).toBeNull();
    expect(pending([submission({ auto_status: 'grading_failed' })])).toBeNull();
  });
});

describe('SubmissionWatcher', () => {
  it('keeps polling a handed-over assignment and announces once', async () => {
    const notes: string[] = [];
    const list = jest
      .fn()
      .mockResolvedValueOnce([running])
      .mockResolvedValueOnce([graded])
      .mockResolvedValue([released]);
    const watcher = new SubmissionWatcher(list, (kind, text) => notes.push(`${kind}: ${text}`), 10);
    watcher.handOver(assignment(), [running]);
    await waitFor(() => expect(notes).toHaveLength(2), { timeout: 2000 });
    expect(notes).toEqual([
      'success: Assignment 1: your submission is graded: 4 / 5',
      'info: Assignment 1: feedback on your submission is available'
    ]);
    await waitFor(() => expect(watcher.size).toBe(0)); // nothing pending any more: it stops
    const calls = list.mock.calls.length;
    await new Promise(r => setTimeout(r, 50));
    expect(list.mock.calls.length).toBe(calls);
  });

  it('does not watch when nothing is pending, and stops when taken back', () => {
    const watcher = new SubmissionWatcher(jest.fn(), jest.fn(), 10);
    watcher.handOver(assignment(), [released]);
    expect(watcher.size).toBe(0);
    watcher.handOver(assignment(), [running]);
    expect(watcher.takeBack(assignment().id)).toEqual([running]);
    expect(watcher.size).toBe(0);
    expect(watcher.takeBack(assignment().id)).toBeNull();
  });
});

describe('a card closed while grading runs', () => {
  it('still brings the notification, and the reopened card does not repeat it', async () => {
    const notes: string[] = [];
    const notify = (kind: string, text: string) => notes.push(`${kind}: ${text}`);
    const watcher = new SubmissionWatcher(api.listSubmissions, notify, 10);
    const ui = {
      pollInterval: 10000,
      watcher,
      notify,
      saveDocuments: jest.fn(),
      revertDocuments: jest.fn()
    } as unknown as IGraderUI;
    const fetched = {
      fetched: true,
      path: 'demo/A1',
      files: ['a.ipynb'],
      notebooks: ['a.ipynb'],
      changed: false
    };
    mocked.localState.mockResolvedValue(fetched);
    mocked.listSubmissions
      .mockResolvedValueOnce([running])
      .mockResolvedValueOnce([running])
      .mockResolvedValue([graded]);
    const first = render(<AssignmentCard assignment={assignment()} ui={ui} />);
    await waitFor(() => expect(document.querySelector('[data-status="grading"]')).not.toBeNull());
    first.unmount(); // the panel is closed
    await waitFor(() => expect(notes).toEqual(['success: Assignment 1: your submission is graded: 4 / 5']), {
      timeout: 2000
    });
    render(<AssignmentCard assignment={assignment()} ui={ui} />);
    await screen.findByText('Graded: 4 / 5');
    expect(notes).toHaveLength(1);
  });
});
