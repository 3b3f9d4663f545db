/**
 * Named API types. Request bodies and every shape the OpenAPI document describes come from the generated
 * `openapi.d.ts` (`npm run gen:api`). Where the document's success response is still an empty schema
 * (`unknown` once generated), `Described<Generated, Shape>` falls back to the shape written here, which
 * follows grader_service/api/serialize.py; as soon as the document describes the response, the generated
 * type wins and the compiler checks every use against it.
 */
import type { components, paths } from './openapi';

type Schemas = components['schemas'];
type JsonOf<R> = R extends { content: { 'application/json': infer J } } ? J : unknown;
type Success<R> = R extends { 200: infer X } ? JsonOf<X> : R extends { 201: infer X } ? JsonOf<X> : unknown;
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** The JSON of a route's success response as the OpenAPI document describes it. */
export type ResponseOf<P, M extends Method> = P extends keyof paths
  ? paths[P] extends { [K in M]: { responses: infer R } }
    ? Success<R>
    : unknown
  : unknown;
/** The generated type when the document describes it, else the shape written here. */
export type Described<Generated, Shape> = unknown extends Generated ? Shape : Generated;

export type LatePeriod = Schemas['LatePeriod'];
export type SubmissionCreate = Schemas['SubmissionCreate'];
export type ErrorBody = Schemas['Error'];

type APath = '/api/lectures/{lecture_id}/assignments/{assignment_id}';

export type Lecture = Described<
  ResponseOf<'/api/lectures/{lecture_id}', 'get'>,
  {
    id: number;
    code: string;
    name: string;
    status: 'active' | 'archived';
    role?: 'student' | 'tutor' | 'instructor';
    created_at: string | null;
    updated_at: string | null;
  }
>;

export type Assignment = Described<
  ResponseOf<APath, 'get'>,
  {
    id: number;
    lecture_id: number;
    name: string;
    position: number | null;
    assignment_type: string | null;
    points: number | null;
    deadline: string | null;
    /** the caller's own deadline when they have an extension (late scaling and the cut-off use it) */
    extended_deadline?: string | null;
    late_periods: LatePeriod[];
    max_submissions: number | null;
    cell_timeout: number | null;
    allowed_files: string[];
    status: 'created' | 'released' | 'closed';
    grading_basis: 'best' | 'latest';
    generated: boolean;
    /** #14: `immediate` (default) or `after_feedback` */
    score_visibility?: 'immediate' | 'after_feedback';
    /** #14: `manual` (default), `on_grading` or `after_deadline` */
    feedback_release?: 'manual' | 'on_grading' | 'after_deadline';
    created_at: string | null;
    updated_at: string | null;
  }
>;

export type AutoStatus = 'pending' | 'running' | 'automatically_graded' | 'grading_failed';
export type FeedbackStatus = 'not_generated' | 'generating' | 'generated' | 'released' | 'generation_failed';

export type Submission = Described<
  ResponseOf<`${APath}/submissions/{submission_id}`, 'get'>,
  {
    id: number;
    lecture_id: number;
    assignment_id: number;
    username: string;
    commit: string;
    submitted_at: string | null;
    auto_status: AutoStatus;
    manual_status: 'not_graded' | 'being_edited' | 'manually_graded';
    feedback_status: FeedbackStatus;
    auto_score: number | null;
    manual_score: number | null;
    score: number | null;
    late_scaling: number | null;
    final_score: number | null;
    updated_at: string | null;
  }
>;

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
