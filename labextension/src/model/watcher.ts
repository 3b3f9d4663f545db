/**
 * Announcements of graded submissions and released feedback, and a watcher that keeps polling an
 * assignment's submissions after its card is gone (the panel closed), so the notification still comes.
 * A card takes its assignment back when it is shown again; nothing is announced twice.
 */
import type { Assignment, Submission } from '../api/types';
import { formatPoints, isGrading, visibleScore } from './status';

export type Kind = 'success' | 'info' | 'warning' | 'error';

/** What changed between two polls that the student should hear about. */
export function announcements(
  assignment: Assignment,
  before: Submission[],
  after: Submission[]
): [Kind, string][] {
  const old = new Map(before.map(s => [s.id, s]));
  const out: [Kind, string][] = [];
  for (const s of after) {
    const prev = old.get(s.id);
    if (!prev) {
      continue;
    }
    if (isGrading(prev) && s.auto_status === 'automatically_graded') {
      const score = visibleScore(s);
      const points =
        score === null
          ? ''
          : `: ${formatPoints(score)}${assignment.points ? ` / ${formatPoints(assignment.points)}` : ''}`;
      out.push(['success', `${assignment.name}: your submission is graded${points}`]);
    } else if (isGrading(prev) && s.auto_status === 'grading_failed') {
      out.push(['error', `${assignment.name}: grading your submission failed; your tutors will look at it`]);
    }
    if (prev.feedback_status !== 'released' && s.feedback_status === 'released') {
      out.push(['info', `${assignment.name}: feedback on your submission is available`]);
    }
  }
  return out;
}
/** Whether polling should go on: something is being graded, or graded work may still get feedback. */
export function pending(submissions: Submission[]): 'grading' | 'feedback' | null {
  if (submissions.some(isGrading)) {
    return 'grading';
  }
  if (submissions.some(s => s.auto_status === 'automatically_graded' && s.feedback_status !== 'released')) {
    return 'feedback';
  }
  return null;
}

interface IWatched {
  assignment: Assignment;
  last: Submission[];
  timer: ReturnType<typeof setTimeout> | null;
}

export class SubmissionWatcher {
  private readonly watched = new Map<number, IWatched>();

  constructor(
    private readonly list: (lid: number, aid: number) => Promise<Submission[]>,
    private readonly notify: (kind: Kind, message: string) => void,
    /** milliseconds between polls while grading runs; feedback is polled ten times less often */
    private readonly interval: number
  ) {}

  /** A card goes away: keep watching its submissions while anything is pending. */
  handOver(assignment: Assignment, submissions: Submission[]): void {
    this.takeBack(assignment.id);
    if (!pending(submissions)) {
      return;
    }
    const entry: IWatched = { assignment, last: submissions, timer: null };
    this.watched.set(assignment.id, entry);
    this.schedule(entry);
  }

  /** A card is shown again: stop watching; it continues from the last submissions seen here. */
  takeBack(assignmentId: number): Submission[] | null {
    const entry = this.watched.get(assignmentId);
    if (!entry) {
      return null;
    }
    if (entry.timer !== null) {
      clearTimeout(entry.timer);
    }
    this.watched.delete(assignmentId);
    return entry.last;
  }

  get size(): number {
    return this.watched.size;
  }

  dispose(): void {
    for (const id of [...this.watched.keys()]) {
      this.takeBack(id);
    }
  }

  private schedule(entry: IWatched): void {
    const state = pending(entry.last);
    if (!state) {
      this.watched.delete(entry.assignment.id);
      return;
    }
    entry.timer = setTimeout(
      () => void this.poll(entry),
      state === 'grading' ? this.interval : this.interval * 10
    );
  }

  private async poll(entry: IWatched): Promise<void> {
    if (this.watched.get(entry.assignment.id) !== entry) {
      return;
    }
    try {
      const fresh = await this.list(entry.assignment.lecture_id, entry.assignment.id);
      if (this.watched.get(entry.assignment.id) !== entry) {
        return; // taken back meanwhile: the card announces
      }
      for (const [kind, text] of announcements(entry.assignment, entry.last, fresh)) {
        this.notify(kind, text);
      }
      entry.last = fresh;
    } catch {
      // a failed poll (server restarting, network) is retried at the next tick
    }
    this.schedule(entry);
  }
}
