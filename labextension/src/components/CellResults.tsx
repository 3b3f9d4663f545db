/**
 * Per-cell results of one submission, as the service lets the student see them (#14's grading record).
 * A service without that route (404) or a hidden score (403) is said in words, not shown as an error.
 */
import React, { useEffect, useState } from 'react';
import { getGrading, serviceHas } from '../api/grader';
import { GraderError, messageOf } from '../api/request';
import type { Assignment, IGradingRecord, Submission } from '../api/types';
import { formatPoints } from '../model/status';

type Load = { state: 'loading' } | { state: 'ok'; record: IGradingRecord } | { state: 'none'; text: string };

export function cellScore(cell: {
  auto_score: number | null;
  manual_score: number | null;
  extra_credit: number | null;
}): number | null {
  const base = cell.manual_score ?? cell.auto_score;
  if (base === null || base === undefined) {
    return null;
  }
  return base + (cell.extra_credit ?? 0);
}

const KIND_TEXT: Record<string, string> = {
  autograded_answer: 'answer (autograded)',
  autograded_test: 'test',
  manual_answer: 'answer (graded by a tutor)',
  task: 'task'
};

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
  }, [submission.id, submission.auto_status, submission.manual_status]);

  if (load.state === 'loading') {
    return <p className="jp-GraderResults-loading">Loading results…</p>;
  }
  if (load.state === 'none') {
    return <p className="jp-GraderResults-none">{load.text}</p>;
  }
  return (
    <div className="jp-GraderResults">
      {load.record.notebooks.map(nb => (
        <table key={nb.name} className="jp-GraderResults-table">
          <caption>{nb.name}</caption>
          <thead>
            <tr>
              <th scope="col">Cell</th>
              <th scope="col">Kind</th>
              <th scope="col">Points</th>
              <th scope="col">Comment</th>
            </tr>
          </thead>
          <tbody>
            {nb.cells.map(cell => {
              const score = cellScore(cell);
              const failed =
                cell.passed === false ||
                (score !== null && cell.max_points !== null && score < cell.max_points);
              return (
                <tr key={cell.grade_id} className={failed ? 'jp-mod-failed' : ''}>
                  <th scope="row">{cell.grade_id}</th>
                  <td>{KIND_TEXT[cell.kind] ?? cell.kind}</td>
                  <td>
                    {cell.needs_manual && score === null
                      ? 'to be graded'
                      : `${score === null ? '–' : formatPoints(score)}${cell.max_points !== null ? ` / ${formatPoints(cell.max_points)}` : ''}`}
                  </td>
                  <td>
                    {cell.comment ?? ''}
                    {cell.error ? <pre className="jp-GraderResults-error">{cell.error}</pre> : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ))}
    </div>
  );
}
