import { ServerConnection } from '@jupyterlab/services';
import { GraderError, describeStatus, messageOf, relayUrl, requestAPI } from '../api/request';

type Reply = { status: number; body?: string; contentType?: string };

/** Real ServerConnection settings whose fetch answers from a list and records the requests. */
function settingsWith(replies: Reply[] | Error): { settings: ServerConnection.ISettings; seen: Request[] } {
  const seen: Request[] = [];
  const fetch = async (input: RequestInfo): Promise<Response> => {
    seen.push(input as Request);
    if (replies instanceof Error) {
      throw replies;
    }
    const reply = replies.shift()!;
    return {
      ok: reply.status >= 200 && reply.status < 300,
      status: reply.status,
      statusText: '',
      text: async () => reply.body ?? ''
    } as Response;
  };
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://lab.test/user/sam/',
    fetch: fetch as typeof window.fetch,
    token: 'tok'
  });
  return { settings, seen };
}

describe('relayUrl', () => {
  it('puts paths under <base_url>grader/ and encodes the query', () => {
    const { settings } = settingsWith([]);
    expect(relayUrl('api/lectures', { include_archived: 'false', skip: undefined }, settings)).toBe(
      'http://lab.test/user/sam/grader/api/lectures?include_archived=false'
    );
    expect(relayUrl('status', {}, settings)).toBe('http://lab.test/user/sam/grader/status');
  });
});

describe('requestAPI', () => {
  it('returns the parsed JSON of a success', async () => {
    const { settings, seen } = settingsWith([{ status: 200, body: '[{"id": 1}]' }]);
    await expect(requestAPI('api/lectures', { settings })).resolves.toEqual([{ id: 1 }]);
    // ServerConnection adds a cache buster and the token
    expect(seen[0].url).toMatch(/^http:\/\/lab\.test\/user\/sam\/grader\/api\/lectures\?\d+$/);
    expect(seen[0].headers.get('Authorization')).toBe('token tok');
  });

  it('sends a JSON body with its content type', async () => {
    const { settings, seen } = settingsWith([{ status: 201, body: '{"id": 7}' }]);
    await requestAPI('lectures/1/assignments/2/submit', { method: 'POST', body: { a: 1 }, settings });
    expect(seen[0].method).toBe('POST');
    expect(seen[0].body).toBe('{"a":1}');
    expect(seen[0].headers.get('Content-Type')).toBe('application/json');
  });

  it('returns undefined for 204 and text when asked', async () => {
    const { settings } = settingsWith([{ status: 204 }, { status: 200, body: '<html>feedback</html>' }]);
    await expect(requestAPI('x', { settings })).resolves.toBeUndefined();
    await expect(requestAPI('y', { settings, as: 'text' })).resolves.toBe('<html>feedback</html>');
  });

  it("carries the service's message, status and field of an error", async () => {
    const { settings } = settingsWith([
      {
        status: 409,
        body: '{"status": 409, "message": "you have no submissions left (3 of 3)", "field": "commit"}'
      }
    ]);
    const error = await requestAPI('x', { settings }).catch(e => e);
    expect(error).toBeInstanceOf(GraderError);
    expect(error.status).toBe(409);
    expect(error.message).toBe('you have no submissions left (3 of 3)');
    expect(error.field).toBe('commit');
  });

  it('describes an error without a message (an HTML proxy page) by its status, never "undefined"', async () => {
    const { settings } = settingsWith([
      { status: 502, body: '<html>Bad gateway</html>' },
      { status: 418, body: '{}' }
    ]);
    const first = await requestAPI('x', { settings }).catch(e => e);
    expect(first.message).toBe('the grader service cannot be reached');
    const second = await requestAPI('x', { settings }).catch(e => e);
    expect(second.message).toBe('the server answered 418');
    expect(second.message).not.toMatch(/undefined/);
  });

  it("uses jupyter_server's reason when there is no message", async () => {
    const { settings } = settingsWith([
      { status: 403, body: '{"message": "", "reason": "\'_xsrf\' argument missing"}' }
    ]);
    const error = await requestAPI('x', { settings, method: 'POST' }).catch(e => e);
    expect(error.message).toBe("'_xsrf' argument missing");
  });

  it('turns a network failure into a readable GraderError', async () => {
    const { settings } = settingsWith(new TypeError('Failed to fetch'));
    const error = await requestAPI('x', { settings }).catch(e => e);
    expect(error).toBeInstanceOf(GraderError);
    expect(error.status).toBe(0);
    expect(error.message).toBe('the Jupyter server cannot be reached: is it still running?');
  });

  it('refuses a success that is not JSON with a sentence', async () => {
    const { settings } = settingsWith([{ status: 200, body: 'not json' }]);
    const error = await requestAPI('x', { settings }).catch(e => e);
    expect(error.message).toBe('the server sent an answer that is not JSON');
  });
});

describe('messageOf', () => {
  it('never answers "undefined" or a stack', () => {
    expect(messageOf(undefined)).toBe('something went wrong (no details were given)');
    expect(messageOf(new Error(''))).toBe('something went wrong (no details were given)');
    expect(messageOf('plain')).toBe('plain');
    expect(messageOf(new GraderError(404, 'no such lecture'))).toBe('no such lecture');
    expect(describeStatus(401)).toBe('you are not logged in to the grader service');
  });
});
