/** Typed endpoint functions over requestAPI: the service's REST API through the relay, and the relay's actions. */
import { requestAPI } from './request';
import type {
  Assignment,
  FeedbackListing,
  IFetchResult,
  GradingRecord,
  ILocalState,
  IRelayStatus,
  IResetResult,
  IValidationReport,
  Lecture,
  Submission
} from './types';

const assignmentPath = (lid: number, aid: number): string => `lectures/${lid}/assignments/${aid}`;
const submissionPath = (lid: number, aid: number, sid: number): string =>
  `api/${assignmentPath(lid, aid)}/submissions/${sid}`;

export const relayStatus = (): Promise<IRelayStatus> => requestAPI<IRelayStatus>('status');

export const listLectures = (): Promise<Lecture[]> =>
  requestAPI<Lecture[]>('api/lectures', { query: { include_archived: 'false' } });

export const listAssignments = (lid: number): Promise<Assignment[]> =>
  requestAPI<Assignment[]>(`api/lectures/${lid}/assignments`);

export const listSubmissions = (lid: number, aid: number): Promise<Submission[]> =>
  requestAPI<Submission[]>(`api/${assignmentPath(lid, aid)}/submissions`);

export const getSubmission = (lid: number, aid: number, sid: number): Promise<Submission> =>
  requestAPI<Submission>(submissionPath(lid, aid, sid));

export const localState = (lid: number, aid: number): Promise<ILocalState> =>
  requestAPI<ILocalState>(`${assignmentPath(lid, aid)}/local`);

export const fetchAssignment = (lid: number, aid: number): Promise<IFetchResult> =>
  requestAPI<IFetchResult>(`${assignmentPath(lid, aid)}/fetch`, { method: 'POST' });

export const resetAssignment = (lid: number, aid: number): Promise<IResetResult> =>
  requestAPI<IResetResult>(`${assignmentPath(lid, aid)}/reset`, { method: 'POST' });

export const validateAssignment = (lid: number, aid: number): Promise<IValidationReport> =>
  requestAPI<IValidationReport>(`${assignmentPath(lid, aid)}/validate`, { method: 'POST' });

export const submitAssignment = (lid: number, aid: number): Promise<Submission> =>
  requestAPI<Submission>(`${assignmentPath(lid, aid)}/submit`, { method: 'POST' });

let routes: Promise<string[]> | null = null;

/**
 * Whether the service has a route ending in `suffix` (from its OpenAPI document, asked once), so a feature
 * a service does not have yet is said in words instead of failing with a 404.
 */
export async function serviceHas(suffix: string): Promise<boolean> {
  routes ??= requestAPI<{ paths: Record<string, unknown> }>('api/openapi.json')
    .then(doc => Object.keys(doc.paths ?? {}))
    .catch(() => {
      routes = null;
      return [];
    });
  return (await routes).some(path => path.endsWith(suffix));
}

/** Per-cell results (#14); the service decides what a student may see. */
export const getGrading = (lid: number, aid: number, sid: number): Promise<GradingRecord> =>
  requestAPI<GradingRecord>(`${submissionPath(lid, aid, sid)}/grading`);

export const getFeedback = (lid: number, aid: number, sid: number): Promise<FeedbackListing> =>
  requestAPI<FeedbackListing>(`${submissionPath(lid, aid, sid)}/feedback`);

export const getFeedbackPage = (lid: number, aid: number, sid: number, page: string): Promise<string> =>
  requestAPI<string>(
    `${submissionPath(lid, aid, sid)}/feedback/${page.split('/').map(encodeURIComponent).join('/')}`,
    {
      as: 'text'
    }
  );
