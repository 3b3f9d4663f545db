/**
 * Named API types, all generated from the service's OpenAPI document into `openapi.d.ts` (`npm run gen:api`):
 * every request body and every success response of the service has a schema there (pydantic models in
 * grader_service/schemas/), so the compiler checks each use of an answer against what the service sends.
 */
import type { components } from './openapi';

type Schemas = components['schemas'];

export type LatePeriod = Schemas['LatePeriod'];
export type SubmissionCreate = Schemas['SubmissionCreate'];
export type ErrorBody = Schemas['Error'];
export type Lecture = Schemas['Lecture'];
export type Assignment = Schemas['Assignment'];
export type Submission = Schemas['Submission'];
export type Job = Schemas['Job'];
export type AutoStatus = Schemas['AutoStatus'];
export type FeedbackStatus = Schemas['FeedbackStatus'];

/**
 * One cell of a submission's grading record as a student sees it (#14's `GET .../grading`): scores only when
 * the assignment's score_visibility allows, comments once feedback is released, no error output of a cell
 * with hidden tests.
 */
export interface ICellResult {
  notebook: string;
  grade_id: string;
  kind: 'autograded_answer' | 'autograded_test' | 'manual_answer' | 'task' | string;
  max_points: number | null;
  hidden_tests?: boolean;
  score?: number | null;
  status?: string | null;
  passed?: boolean;
  error_output?: string | null;
  needs_manual?: boolean;
  comment?: string | null;
}

export interface IGradingRecord {
  submission_id: number;
  graded: boolean;
  scores_visible?: boolean;
  feedback_released?: boolean;
  totals: {
    max_points: number | null;
    score: number | null;
    late_scaling?: number | null;
    final_score?: number | null;
  };
  notebooks: {
    name: string;
    cells: ICellResult[];
    max_points?: number | null;
    score?: number | null;
    needs_manual?: boolean;
  }[];
}

export interface IFeedbackListing {
  submission_id: number;
  status: string;
  released_at?: string | null;
  pages: { path: string; url: string }[];
}

// -- the relay's own routes (grader_labextension/handlers.py), not part of the service's document --

export interface IRelayStatus {
  service_url: string;
  token_source: string;
  service: string;
  authenticated: boolean;
  user?: string;
}

export interface ILocalState {
  fetched: boolean;
  path: string;
  /** the files a submission would hand in (the assignment's allowed_files applied) */
  files: string[];
  notebooks: string[];
  /** uncommitted changes since the last fetch or submission */
  changed: boolean;
}

export interface IFetchResult {
  path: string;
  action: 'cloned' | 'pulled';
  commit: string | null;
  files: string[];
}

export interface IResetResult {
  path: string;
  backup: string;
  files: string[];
  commit: string | null;
}

export interface IValidationProblem {
  notebook: string;
  cell_index: number;
  grade_id: string | null;
  kind: 'unanswered' | 'failed_test' | 'error';
  message: string;
}

export interface IValidationReport {
  passed: boolean;
  notebooks: string[];
  problems: IValidationProblem[];
  duration: number;
}
