/**
 * The one place the frontend talks to the server: requests to the relay under `<base_url>grader/`.
 * Every failure becomes a GraderError whose `message` is the readable sentence the relay or the service
 * sent (their `{"status", "message"}` envelope), or a plain description when there is none.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export class GraderError extends Error {
  readonly status: number;
  readonly field?: string;

  constructor(status: number, message: string, field?: string) {
    super(message);
    this.name = 'GraderError';
    this.status = status;
    this.field = field;
  }
}

export interface IRequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** a JSON body (serialised here) */
  body?: unknown;
  /** query parameters; undefined values are left out */
  query?: Record<string, string | number | boolean | undefined>;
  /** `text` for HTML pages; JSON otherwise */
  as?: 'json' | 'text';
  settings?: ServerConnection.ISettings;
}

/** The URL of a relay path (`api/lectures`, `lectures/1/assignments/2/fetch`, `status`). */
export function relayUrl(
  path: string,
  query: IRequestOptions['query'] = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  const url = URLExt.join(settings.baseUrl, 'grader', path);
  const params = Object.entries(query)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  return params.length ? `${url}?${params.join('&')}` : url;
}

/** The readable message of a failed response: the envelope's `message`, else a sentence about the status. */
export async function errorFrom(response: Response): Promise<GraderError> {
  const text = await response.text().catch(() => '');
  let message = '';
  let field: string | undefined;
  try {
    const data = JSON.parse(text);
    if (data && typeof data === 'object') {
      if (typeof data.message === 'string' && data.message.trim()) {
        message = data.message;
      } else if (typeof data.reason === 'string' && data.reason.trim()) {
        message = data.reason; // jupyter_server's own errors (e.g. 403 from its xsrf check)
      }
      field = typeof data.field === 'string' ? data.field : undefined;
    }
  } catch {
    // not JSON: an HTML error page of a proxy, or nothing at all
  }
  if (!message) {
    message = describeStatus(response.status, response.statusText);
  }
  return new GraderError(response.status, message, field);
}

export function describeStatus(status: number, statusText = ''): string {
  const known: Record<number, string> = {
    401: 'you are not logged in to the grader service',
    403: 'you may not do this',
    404: 'not found (or not visible to you)',
    502: 'the grader service cannot be reached',
    503: 'the grader service is not available',
    504: 'the grader service did not answer in time'
  };
  return known[status] ?? `the server answered ${status}${statusText ? ` ${statusText}` : ''}`;
}

/** Any thrown value as one readable sentence (never "undefined", never a stack). */
export function messageOf(error: unknown): string {
  if (error instanceof GraderError) {
    return error.message;
  }
  if (error instanceof ServerConnection.NetworkError) {
    return 'the Jupyter server cannot be reached: is it still running?';
  }
  if (error instanceof Error && error.message) {
    return error.message;
  }
  if (typeof error === 'string' && error) {
    return error;
  }
  return 'something went wrong (no details were given)';
}

export async function requestAPI<T>(path: string, options: IRequestOptions = {}): Promise<T> {
  const settings = options.settings ?? ServerConnection.makeSettings();
  const init: RequestInit = { method: options.method ?? 'GET' };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(relayUrl(path, options.query, settings), init, settings);
  } catch (error) {
    throw new GraderError(0, messageOf(error));
  }
  if (!response.ok) {
    throw await errorFrom(response);
  }
  if (options.as === 'text') {
    return (await response.text()) as T;
  }
  if (response.status === 204) {
    return undefined as T;
  }
  const text = await response.text();
  if (!text) {
    return undefined as T;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new GraderError(response.status, 'the server sent an answer that is not JSON');
  }
}
