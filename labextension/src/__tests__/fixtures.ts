import type { Assignment, Submission } from '../api/types';

export const NOW = Date.parse('2026-12-05T12:00:00Z');
const HOUR = 3600e3;

export function assignment(over: Partial<Assignment> = {}): Assignment {
  return {
    id: 2,
    lecture_id: 1,
    name: 'Assignment 1',
    position: 0,
    assignment_type: 'Homework',
    points: 5,
    deadline: new Date(NOW + 50 * HOUR).toISOString(),
    late_periods: [{ period: 'P1D', scaling: 0.5 }],
    max_submissions: 3,
    cell_timeout: 30,
    allowed_files: [],
    status: 'released',
    grading_basis: 'best',
    generated: true,
    created_at: null,
    updated_at: null,
    ...over
  } as Assignment;
}

export function submission(over: Partial<Submission> = {}): Submission {
  return {
    id: 10,
    lecture_id: 1,
    assignment_id: 2,
    username: 'sam',
    commit: 'a'.repeat(40),
    submitted_at: new Date(NOW).toISOString(),
    auto_status: 'pending',
    manual_status: 'not_graded',
    feedback_status: 'not_generated',
    auto_score: null,
    manual_score: null,
    score: null,
    late_scaling: 1,
    final_score: null,
    updated_at: null,
    ...over
  } as Submission;
}
