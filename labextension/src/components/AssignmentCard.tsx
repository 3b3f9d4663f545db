/**
 * One released assignment: status badge, deadline countdown, submissions left, and the student's actions
 * (fetch, open, validate, submit, reset). While a submission is being graded its status is polled, and a
 * notification says when it is graded or its feedback is released.
 */
import React, { useCallback, useEffect, useRef, useState } from 'react';
import { Button } from '@jupyterlab/ui-components';
import {
  fetchAssignment,
  listSubmissions,
  localState,
  resetAssignment,
  submitAssignment,
  validateAssignment
} from '../api/grader';
import { messageOf } from '../api/request';
import type { Assignment, ILocalState, Submission } from '../api/types';
import { badgeFor, formatPoints, newestFirst, remainingSubmissions, submitWarnings } from '../model/status';
import { announcements, pending } from '../model/watcher';
import { Countdown } from './Countdown';
import { StatusBadge } from './StatusBadge';
import { SubmissionHistory } from './SubmissionHistory';
import type { IGraderUI } from './ui';

type Busy = null | 'fetch' | 'validate' | 'submit' | 'reset';
const BUSY_TEXT: Record<Exclude<Busy, null>, string> = {
  fetch: 'Fetching…',
  validate: 'Validating (running the notebooks)…',
  submit: 'Submitting…',
  reset: 'Resetting…'
};

export function AssignmentCard({ assignment, ui }: { assignment: Assignment; ui: IGraderUI }): JSX.Element {
  const lid = assignment.lecture_id;
  const aid = assignment.id;
  const [local, setLocal] = useState<ILocalState | null>(null);
  const [submissions, setSubmissions] = useState<Submission[] | null>(null);
  const [busy, setBusy] = useState<Busy>(null);
  const [error, setError] = useState<string | null>(null);
  const [showHistory, setShowHistory] = useState(false);
  const previous = useRef<Submission[]>([]);

  // take over from the watcher that polled while this card was not shown; hand back when it goes
  useEffect(() => {
    previous.current = ui.watcher.takeBack(aid) ?? [];
    return () => ui.watcher.handOver(assignment, previous.current);
  }, [aid]);

  const reloadLocal = useCallback(async () => setLocal(await localState(lid, aid)), [lid, aid]);
  const reloadSubmissions = useCallback(async () => {
    const fresh = newestFirst(await listSubmissions(lid, aid));
    for (const [kind, text] of announcements(assignment, previous.current, fresh)) {
      ui.notify(kind, text);
    }
    previous.current = fresh;
    setSubmissions(fresh);
  }, [lid, aid]);

  useEffect(() => {
    Promise.all([reloadLocal(), reloadSubmissions()]).catch(e => setError(messageOf(e)));
  }, [reloadLocal, reloadSubmissions]);

  // poll every 2 s while grading runs, every 30 s while graded work may still get feedback
  const waiting = pending(submissions ?? []);
  useEffect(() => {
    if (!waiting) {
      return;
    }
    const timer = setTimeout(
      () => reloadSubmissions().catch(e => setError(messageOf(e))),
      waiting === 'grading' ? ui.pollInterval : ui.pollInterval * 15
    );
    return () => clearTimeout(timer);
  }, [submissions, waiting]);

  const run = async (what: Exclude<Busy, null>, action: () => Promise<void>): Promise<void> => {
    setBusy(what);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(null);
    }
  };

  const onFetch = (): Promise<void> =>
    run('fetch', async () => {
      const result = await fetchAssignment(lid, aid);
      await reloadLocal();
      if (result.action === 'pulled') {
        await ui.revertDocuments(result.path);
      }
      await ui.openFolder(result.path);
    });

  const onValidate = (): Promise<void> =>
    run('validate', async () => {
      await ui.saveDocuments(local?.path ?? '');
      const report = await validateAssignment(lid, aid);
      await ui.showValidation(assignment, report);
    });

  const onSubmit = (): Promise<void> =>
    run('submit', async () => {
      await ui.saveDocuments(local?.path ?? '');
      const state = await localState(lid, aid);
      setLocal(state);
      const warnings = submitWarnings(assignment, submissions ?? [], Date.now());
      if (!(await ui.confirmSubmit(assignment, state.files, warnings))) {
        return;
      }
      const created = await submitAssignment(lid, aid);
      const list = newestFirst([created, ...(submissions ?? []).filter(s => s.id !== created.id)]);
      previous.current = list;
      setSubmissions(list);
      setShowHistory(true);
      ui.notify('info', `${assignment.name}: submitted; grading has started`);
    });

  const onReset = (): Promise<void> =>
    run('reset', async () => {
      if (!local || !(await ui.confirmReset(assignment, local.path))) {
        return;
      }
      const result = await resetAssignment(lid, aid);
      await reloadLocal();
      await ui.revertDocuments(result.path);
      ui.notify(
        'info',
        `${assignment.name} is back to the released version; your files were copied to ${result.backup}`
      );
    });

  const badge = badgeFor(assignment, local, submissions ?? []);
  const left = remainingSubmissions(assignment, submissions ?? []);
  const headingId = `grader-assignment-${aid}`;
  const fetched = local?.fetched ?? false;
  const closed = assignment.status === 'closed';
  return (
    <section className="jp-GraderAssignment" aria-labelledby={headingId} data-assignment-id={aid}>
      <header className="jp-GraderAssignment-header">
        <h3 id={headingId} className="jp-GraderAssignment-name">
          {assignment.name}
        </h3>
        <StatusBadge badge={badge} />
      </header>
      <Countdown assignment={assignment} />
      <div className="jp-GraderAssignment-facts">
        {assignment.points ? <span>{formatPoints(assignment.points)} points</span> : null}
        {closed && <span className="jp-GraderAssignment-closed">Closed: no more submissions</span>}
        <span className="jp-GraderAssignment-left">
          {left === null
            ? 'Unlimited submissions'
            : `${left} of ${assignment.max_submissions} submissions left`}
        </span>
      </div>
      <div className="jp-GraderAssignment-actions" role="group" aria-label={`Actions for ${assignment.name}`}>
        <Button
          className="jp-GraderButton"
          onClick={onFetch}
          disabled={busy !== null}
          aria-label={`${fetched ? 'Update' : 'Fetch'} ${assignment.name}`}
        >
          {fetched ? 'Update' : 'Fetch'}
        </Button>
        {fetched &&
          (local?.notebooks ?? []).map(nb => (
            <Button
              key={nb}
              className="jp-GraderButton"
              onClick={() => ui.openFile(`${local!.path}/${nb}`)}
              disabled={busy !== null}
              aria-label={`Open ${nb}`}
            >
              Open {nb}
            </Button>
          ))}
        {fetched && (
          <>
            <Button
              className="jp-GraderButton"
              onClick={onValidate}
              disabled={busy !== null}
              aria-label={`Validate ${assignment.name}`}
            >
              Validate
            </Button>
            <Button
              className="jp-GraderButton jp-mod-accept"
              onClick={onSubmit}
              disabled={busy !== null || left === 0 || closed}
              aria-label={`Submit ${assignment.name}`}
            >
              Submit
            </Button>
            <Button
              className="jp-GraderButton jp-mod-warn"
              onClick={onReset}
              disabled={busy !== null}
              aria-label={`Reset ${assignment.name} to the released version`}
            >
              Reset
            </Button>
          </>
        )}
      </div>
      {busy && (
        <p className="jp-GraderAssignment-busy" role="status">
          {BUSY_TEXT[busy]}
        </p>
      )}
      {error && (
        <p className="jp-GraderError" role="alert">
          {error}
        </p>
      )}
      {submissions && submissions.length > 0 && (
        <details
          className="jp-GraderHistory"
          open={showHistory}
          onToggle={e => setShowHistory((e.target as HTMLDetailsElement).open)}
        >
          <summary>Submissions ({submissions.length})</summary>
          <SubmissionHistory assignment={assignment} submissions={submissions} ui={ui} />
        </details>
      )}
    </section>
  );
}
