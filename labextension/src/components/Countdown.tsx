/** Deadline with a live countdown (re-rendered every second while a phase is about to change). */
import React, { useEffect, useState } from 'react';
import type { Assignment } from '../api/types';
import { deadlineView, effectiveDeadline, latePeriods } from '../model/status';

export function Countdown({
  assignment,
  now = Date.now
}: {
  assignment: Assignment;
  now?: () => number;
}): JSX.Element {
  const [time, setTime] = useState(now());
  const view = deadlineView(assignment, time);
  const due = effectiveDeadline(assignment);
  const extended = Boolean(assignment.extended_deadline);
  useEffect(() => {
    if (view.changesIn === null && view.phase !== 'closed') {
      return;
    }
    const timer = setInterval(() => setTime(now()), 1000);
    return () => clearInterval(timer);
  }, [view.phase, due]);
  const periods = latePeriods(assignment);
  return (
    <div className={`jp-GraderDeadline jp-mod-${view.phase}`}>
      {due && (
        <span className="jp-GraderDeadline-date">
          {extended ? 'Your extended deadline ' : 'Deadline '}
          <time dateTime={due}>{new Date(due).toLocaleString()}</time>
          {' · '}
        </span>
      )}
      <span className="jp-GraderDeadline-countdown" aria-live="off">
        {view.text}
      </span>
      {periods.length > 0 && (
        <ul className="jp-GraderLatePeriods" aria-label="Late periods">
          {periods.map(p => (
            <li key={p.endsAfter}>{p.text}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
