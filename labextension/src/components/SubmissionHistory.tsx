/** The student's submissions, newest first: status, score (when visible), per-cell results and feedback. */
import React, { useState } from 'react';
import { Button } from '@jupyterlab/ui-components';
import { getFeedback } from '../api/grader';
import { messageOf } from '../api/request';
import type { Assignment, FeedbackListing, Submission } from '../api/types';
import { formatPoints, visibleScore } from '../model/status';
import { CellResults } from './CellResults';
import type { IGraderUI } from './ui';

const AUTO_TEXT: Record<string, string> = {
  pending: 'waiting for grading',
  running: 'grading…',
  automatically_graded: 'graded',
  grading_failed: 'grading failed'
};

export function submissionStatusText(s: Submission): string {
  const parts = [AUTO_TEXT[s.auto_status] ?? s.auto_status];
  if (s.manual_status === 'manually_graded') {
    parts.push('reviewed by a tutor');
  }
  if (s.feedback_status === 'released') {
    parts.push('feedback available');
  }
  if (s.late_scaling !== null && s.late_scaling !== undefined && s.late_scaling < 1) {
    parts.push(`late: score × ${s.late_scaling}`);
  }
  return parts.join(' · ');
}

function SubmissionRow({
  assignment,
  submission,
  number,
  ui
}: {
  assignment: Assignment;
  submission: Submission;
  number: number;
  ui: IGraderUI;
}): JSX.Element {
  const [showResults, setShowResults] = useState(false);
  const [feedback, setFeedback] = useState<FeedbackListing | null>(null);
  const [error, setError] = useState<string | null>(null);
  const score = visibleScore(submission);
  const released = submission.feedback_status === 'released';

  const openFeedback = async (): Promise<void> => {
    setError(null);
    try {
      const listing = feedback ?? (await getFeedback(assignment.lecture_id, assignment.id, submission.id));
      setFeedback(listing);
      if (listing.pages.length === 0) {
        setError('The feedback has no pages yet.');
      } else if (listing.pages.length === 1) {
        await ui.openFeedback(assignment, submission, listing.pages[0].path);
      }
    } catch (e) {
      setError(messageOf(e));
    }
  };

  const when = submission.submitted_at ? new Date(submission.submitted_at).toLocaleString() : '';
  return (
    <li
      className="jp-GraderSubmission"
      data-submission-id={submission.id}
      data-auto-status={submission.auto_status}
    >
      <div className="jp-GraderSubmission-line">
        <span className="jp-GraderSubmission-number">#{number}</span>
        <time dateTime={submission.submitted_at ?? ''}>{when}</time>
        <span className="jp-GraderSubmission-status">{submissionStatusText(submission)}</span>
        {score !== null && (
          <span className="jp-GraderSubmission-score">
            {formatPoints(score)}
            {assignment.points ? ` / ${formatPoints(assignment.points)}` : ''} points
          </span>
        )}
      </div>
      <div className="jp-GraderSubmission-actions">
        {submission.auto_status === 'automatically_graded' && (
          <Button
            className="jp-GraderButton"
            aria-expanded={showResults}
            onClick={() => setShowResults(!showResults)}
            aria-label={`${showResults ? 'Hide' : 'Show'} results of submission ${number}`}
          >
            {showResults ? 'Hide results' : 'Results'}
          </Button>
        )}
        {released && (
          <Button
            className="jp-GraderButton"
            onClick={openFeedback}
            aria-label={`Open feedback of submission ${number}`}
          >
            Feedback
          </Button>
        )}
        {feedback &&
          feedback.pages.length > 1 &&
          feedback.pages.map(p => (
            <Button
              key={p.path}
              className="jp-GraderButton"
              onClick={() => ui.openFeedback(assignment, submission, p.path)}
            >
              {p.path}
            </Button>
          ))}
      </div>
      {error && (
        <p className="jp-GraderError" role="alert">
          {error}
        </p>
      )}
      {showResults && <CellResults assignment={assignment} submission={submission} />}
    </li>
  );
}

export function SubmissionHistory({
  assignment,
  submissions,
  ui
}: {
  assignment: Assignment;
  submissions: Submission[];
  ui: IGraderUI;
}): JSX.Element {
  return (
    <ol className="jp-GraderSubmissions" reversed aria-label={`Submissions of ${assignment.name}`}>
      {submissions.map((s, index) => (
        <SubmissionRow
          key={s.id}
          assignment={assignment}
          submission={s}
          number={submissions.length - index}
          ui={ui}
        />
      ))}
    </ol>
  );
}
