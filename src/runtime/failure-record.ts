import type { S3Event } from 'aws-lambda';

/**
 * What Lambda sends an asynchronous invocation's on-failure destination once every attempt failed
 * (AWS's documented invocation record): the original event, and how the last attempt ended.
 */
export interface FailureRecord {
  requestContext?: { condition?: string; approximateInvokeCount?: number };
  requestPayload?: S3Event;
  responsePayload?: { errorType?: string; errorMessage?: string } | null;
}

/**
 * The code and message an image gets when its processor never finished. Lambda's own words are
 * not passed on (they carry request ids and runtime internals); the code says what happened.
 */
export function failureOf(record: FailureRecord): { code: string; message: string } {
  const type = record.responsePayload?.errorType ?? '';
  const text = record.responsePayload?.errorMessage ?? '';
  if (type === 'Runtime.OutOfMemory' || text.includes('signal: killed')) {
    return { code: 'out_of_memory', message: 'The image needs more memory than the processor has; it was stopped on every attempt.' };
  }
  if (type === 'Sandbox.Timedout' || text.includes('Task timed out')) {
    return { code: 'timeout', message: 'Processing ran past the processor\'s time limit on every attempt.' };
  }
  return { code: 'internal_error', message: 'Processing failed on every attempt; try again later.' };
}
