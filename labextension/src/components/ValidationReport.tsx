/** What validation found: nothing (ready to submit), or each unanswered cell, failing visible test and error. */
import React from 'react';
import type { IValidationReport } from '../api/types';

const KIND_TEXT = { unanswered: 'Unanswered', failed_test: 'Failing test', error: 'Error' } as const;

export function ValidationReport({ report }: { report: IValidationReport }): JSX.Element {
  if (report.notebooks.length === 0) {
    return <p className="jp-GraderValidation jp-mod-empty">There is no notebook to validate.</p>;
  }
  if (report.passed) {
    return (
      <p className="jp-GraderValidation jp-mod-passed" role="status">
        Success: every visible test passed and every answer cell is filled in ({report.notebooks.join(', ')}).
        Nothing was handed in.
      </p>
    );
  }
  return (
    <div className="jp-GraderValidation jp-mod-failed">
      <p role="alert">
        {report.problems.length} problem{report.problems.length === 1 ? '' : 's'} found. Nothing was handed
        in.
      </p>
      <ul className="jp-GraderValidation-problems">
        {report.problems.map((p, i) => (
          <li key={i} data-kind={p.kind}>
            <strong>{KIND_TEXT[p.kind]}</strong> in {p.notebook}, cell {p.cell_index + 1}
            {p.grade_id ? ` (${p.grade_id})` : ''}
            {p.kind === 'unanswered' ? (
              `: ${p.message}`
            ) : (
              <pre className="jp-GraderValidation-message">{p.message}</pre>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
