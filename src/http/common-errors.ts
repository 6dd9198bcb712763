/** As the routes' own problemResponse, after the document is made: the Problem schema by reference. */
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

type Operation = { operationId?: string; responses?: Record<string, unknown>; parameters?: { in?: string; name?: string }[] };
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** Operations a signed link authorises instead of the API key. */
const SIGNED = new Set(['getRender', 'putUpload']);
/** Operations anyone may call. */
const OPEN = new Set(['getSignIn', 'getSettings']);
/** Operations that take a slot or a place in a queue: refused with 503 and Retry-After when none is free. */
const QUEUED = new Set(['uploadImage', 'putUpload', 'reprocessImage', 'getRender']);
/** Operations whose body streams in under the idle and pace limits. */
const STREAMED = new Set(['uploadImage', 'putUpload']);

/**
 * The refusals every operation can meet, declared where the middleware (not the route) answers
 * them: 401 (no or wrong key or token), 400 (a malformed id), 429 (RATE_LIMIT_PER_MINUTE), 503 (no slot),
 * 408 (a body too slow). A client generated from the document then knows every status it can get.
 */
export function declareCommonErrors<T extends { paths?: unknown }>(document: T): T {
  for (const [path, item] of Object.entries((document.paths ?? {}) as Record<string, Record<string, Operation>>)) {
    if (!path.startsWith('/v1/')) continue;
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const responses = (operation.responses ??= {});
      const add = (status: number, description: string) => (responses[status] ??= problemResponse(description));
      const id = operation.operationId ?? '';
      if (path.includes('{id}')) add(400, 'A malformed image id.');
      if (!SIGNED.has(id) && !OPEN.has(id)) add(401, 'No API key or access token, or one that is not valid.');
      if (STREAMED.has(id)) add(408, 'The body stopped arriving, or came in slower than MIN_UPLOAD_BYTES_PER_SECOND.');
      add(429, 'Over RATE_LIMIT_PER_MINUTE; Retry-After says when to try again.');
      if (QUEUED.has(id)) add(503, 'No slot is free (uploads in progress, images queued, renders waiting); Retry-After says when to try again.');
    }
  }
  return document;
}
