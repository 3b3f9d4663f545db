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
 * What the student UI reads of a submission: its own grading record (cells with scores only while the
 * assignment shows them, comments once feedback is released) and its released feedback pages. The same
 * routes answer staff with StaffGrading / StaffFeedback, which this UI does not show.
 */
export type GradingRecord = Schemas['StudentGrading'];
export type CellResult = Schemas['StudentCell'];
export type FeedbackListing = Schemas['StudentFeedback'];

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
