/**
 * Per-cell results of one submission, as the service lets the student see them (#14's grading record):
 * points per cell, pass/fail of tests, the error output of visible tests, tutors' comments. A service
 * without that route, or a submission without a record yet, is said in words, not shown as an error.
 */
import React, { useEffect, useState } from 'react';
import { getGrading, serviceHas } from '../api/grader';
import { GraderError, messageOf } from '../api/request';
import type { Assignment, CellResult, GradingRecord, Submission } from '../api/types';
import { formatPoints } from '../model/status';

type Load = { state: 'loading' } | { state: 'ok'; record: GradingRecord } | { state: 'none'; text: string };

export const KIND_TEXT: Record<string, string> = {
  autograded_answer: 'answer',
  autograded_test: 'test',
  manual_answer: 'written answer',
  task: 'task'
};

/** "2 / 2", "– / 1", "to be graded", or "" when the service hides scores. */
export function pointsText(cell: CellResult, scoresVisible: boolean): string {
  if (!scoresVisible || cell.max_points === null || cell.max_points === 0) {
    return '';
  }
  if (cell.needs_manual && (cell.score === null || cell.score === undefined)) {
    return `to be graded (${formatPoints(cell.max_points)})`;
  }
  const score = cell.score === null || cell.score === undefined ? '–' : formatPoints(cell.score);
  return `${score} / ${formatPoints(cell.max_points)}`;
}

export function resultText(cell: CellResult): string {
  if (cell.passed === true) {
    return cell.hidden_tests ? 'passed (with hidden tests)' : 'passed';
  }
  if (cell.passed === false) {
    return cell.hidden_tests ? 'failed (hidden tests: no details)' : 'failed';
  }
  return '';
}

export function CellResults({
  assignment,
  submission
}: {
  assignment: Assignment;
  submission: Submission;
}): JSX.Element {
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  useEffect(() => {
    let live = true;
    serviceHas('/submissions/{submission_id}/grading')
      .then(has => {
        if (!has) {
          throw new GraderError(404, 'no grading record route');
        }
        return getGrading(assignment.lecture_id, assignment.id, submission.id);
      })
      .then(record => live && setLoad({ state: 'ok', record }))
      .catch(e => {
        if (!live) {
          return;
        }
        if (e instanceof GraderError && (e.status === 404 || e.status === 405)) {
          setLoad({ state: 'none', text: 'Per-cell results are not available for this submission.' });
        } else {
          setLoad({ state: 'none', text: messageOf(e) });
        }
      });
    return () => {
      live = false;
    };
  }, [submission.id, submission.auto_status, submission.manual_status, submission.feedback_status]);

  if (load.state === 'loading') {
    return <p className="jp-GraderResults-loading">Loading results…</p>;
  }
  if (load.state === 'none') {
    return <p className="jp-GraderResults-none">{load.text}</p>;
  }
  const { record } = load;
  if (!record.graded || record.notebooks.length === 0) {
    return <p className="jp-GraderResults-none">This submission has no per-cell results yet.</p>;
  }
  const visible = record.scores_visible !== false;
  return (
    <div className="jp-GraderResults">
      {!visible && (
        <p className="jp-GraderResults-hidden">Scores are shown once your feedback is released.</p>
      )}
      {record.notebooks.map(nb => (
        <table key={nb.name} className="jp-GraderResults-table">
          <caption>
            {nb.name}
            {visible && nb.max_points
              ? ` · ${formatPoints(nb.score ?? 0)} / ${formatPoints(nb.max_points)}`
              : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Cell</th>
              <th scope="col">Kind</th>
              <th scope="col">Points</th>
              <th scope="col">Result and comments</th>
            </tr>
          </thead>
          <tbody>
            {nb.cells.map(cell => (
              <tr
                key={`${cell.notebook}#${cell.grade_id}`}
                className={cell.passed === false ? 'jp-mod-failed' : ''}
                data-grade-id={cell.grade_id}
              >
                <th scope="row">{cell.grade_id}</th>
                <td>{KIND_TEXT[cell.kind] ?? cell.kind}</td>
                <td>{pointsText(cell, visible)}</td>
                <td>
                  {resultText(cell)}
                  {cell.error_output ? (
                    <pre className="jp-GraderResults-error">{cell.error_output}</pre>
                  ) : null}
                  {cell.comment ? <p className="jp-GraderResults-comment">{cell.comment}</p> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      {visible && record.totals.max_points ? (
        <p className="jp-GraderResults-total">
          Total {formatPoints(record.totals.score ?? 0)} / {formatPoints(record.totals.max_points)}
          {record.totals.late_scaling !== null &&
          record.totals.late_scaling !== undefined &&
          record.totals.late_scaling < 1
            ? `, late: × ${record.totals.late_scaling} = ${formatPoints(record.totals.final_score ?? 0)}`
            : ''}
        </p>
      ) : null}
    </div>
  );
}
