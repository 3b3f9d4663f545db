/**
 * What a student sees about an assignment, as pure functions of the API's data and the clock: the status
 * badge, the deadline with its late periods, and the submissions left. Components only render these.
 */
import type { Assignment, ILocalState, Submission } from '../api/types';
import { formatSpan, parseDuration } from './duration';

export type BadgeKind = 'not-fetched' | 'fetched' | 'submitted' | 'grading' | 'graded' | 'feedback';

export interface IBadge {
  kind: BadgeKind;
  label: string;
}

/** Newest first, by submission time then id. */
export function newestFirst(submissions: Submission[]): Submission[] {
  return [...submissions].sort(
    (a, b) => (b.submitted_at ?? '').localeCompare(a.submitted_at ?? '') || b.id - a.id
  );
}

export function isGrading(submission: Submission): boolean {
  return submission.auto_status === 'pending' || submission.auto_status === 'running';
}

/** The score a student may see, or null (the service leaves it out while it is hidden). */
export function visibleScore(submission: Submission): number | null {
  const score = submission.final_score ?? submission.score;
  return typeof score === 'number' ? score : null;
}

export function formatPoints(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/0$/, '');
}

export function submittedText(count: number, max: number | null): string {
  return max ? `Submitted ${count} of ${max}` : `Submitted ${count}×`;
}

export function badgeFor(
  assignment: Assignment,
  local: ILocalState | null,
  submissions: Submission[]
): IBadge {
  const latest = newestFirst(submissions)[0];
  if (!latest) {
    return local?.fetched
      ? { kind: 'fetched', label: 'Fetched' }
      : { kind: 'not-fetched', label: 'Not fetched' };
  }
  if (latest.feedback_status === 'released') {
    return { kind: 'feedback', label: 'Feedback available' };
  }
  if (isGrading(latest)) {
    return { kind: 'grading', label: 'Grading…' };
  }
  if (latest.auto_status === 'automatically_graded') {
    const score = visibleScore(latest);
    if (score === null) {
      return { kind: 'graded', label: 'Graded' };
    }
    const points = assignment.points ? ` / ${formatPoints(assignment.points)}` : '';
    return { kind: 'graded', label: `Graded: ${formatPoints(score)}${points}` };
  }
  return { kind: 'submitted', label: submittedText(submissions.length, assignment.max_submissions) };
}

/** Submissions left, or null when there is no limit. */
export function remainingSubmissions(assignment: Assignment, submissions: Submission[]): number | null {
  if (!assignment.max_submissions) {
    return null;
  }
  return Math.max(0, assignment.max_submissions - submissions.length);
}

export interface ILatePeriodView {
  /** milliseconds after the deadline this period ends */
  endsAfter: number;
  scaling: number;
  text: string;
}

export function latePeriods(assignment: Assignment): ILatePeriodView[] {
  return (assignment.late_periods ?? []).flatMap(p => {
    const ms = parseDuration(p.period);
    if (ms === null) {
      return [];
    }
    const cost = Math.round((1 - p.scaling) * 100);
    return [
      {
        endsAfter: ms,
        scaling: p.scaling,
        text: `up to ${formatSpan(ms)} late: ${cost === 100 ? 'no points' : `score × ${p.scaling} (−${cost} %)`}`
      }
    ];
  });
}

export type DeadlinePhase = 'none' | 'open' | 'late' | 'closed';

export interface IDeadlineView {
  phase: DeadlinePhase;
  /** "due in 2 d 3 h", "late by 5 min: score × 0.5 for 23 h 55 min more", "closed 3 d ago" */
  text: string;
  /** the late period now in force */
  scaling: number;
  /** milliseconds until the next change of phase (for the countdown's timer), or null */
  changesIn: number | null;
}

/** The deadline that holds for this student: their extension when they have one. */
export function effectiveDeadline(assignment: Assignment): string | null {
  return assignment.extended_deadline ?? assignment.deadline ?? null;
}

export function deadlineView(assignment: Assignment, now: number): IDeadlineView {
  const due = effectiveDeadline(assignment);
  if (!due) {
    return { phase: 'none', text: 'no deadline', scaling: 1, changesIn: null };
  }
  const deadline = Date.parse(due);
  if (Number.isNaN(deadline)) {
    return { phase: 'none', text: 'no deadline', scaling: 1, changesIn: null };
  }
  if (now < deadline) {
    return {
      phase: 'open',
      text: `due in ${formatSpan(deadline - now)}`,
      scaling: 1,
      changesIn: deadline - now
    };
  }
  const late = now - deadline;
  const period = latePeriods(assignment).find(p => late < p.endsAfter);
  if (period && period.scaling > 0) {
    const left = period.endsAfter - late;
    return {
      phase: 'late',
      text: `late by ${formatSpan(late)}: score × ${period.scaling} for ${formatSpan(left)} more`,
      scaling: period.scaling,
      changesIn: left
    };
  }
  return { phase: 'closed', text: `deadline passed ${formatSpan(late)} ago`, scaling: 0, changesIn: null };
}

/** Warnings for the submit confirmation: late, last attempt, no attempts left. */
export function submitWarnings(assignment: Assignment, submissions: Submission[], now: number): string[] {
  const warnings: string[] = [];
  const deadline = deadlineView(assignment, now);
  if (deadline.phase === 'late') {
    warnings.push(
      `The deadline has passed: this submission is late and its score is multiplied by ${deadline.scaling}.`
    );
  } else if (deadline.phase === 'closed') {
    warnings.push('The deadline and every late period have passed: the service will refuse this submission.');
  }
  const left = remainingSubmissions(assignment, submissions);
  if (left === 1) {
    warnings.push('This is your last submission: you cannot submit again afterwards.');
  } else if (left === 0) {
    warnings.push('You have no submissions left: the service will refuse this one.');
  }
  return warnings;
}
