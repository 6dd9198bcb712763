import type { S3Event } from 'aws-lambda';

/**
 * The object keys of an S3 notification, decoded as AWS documents them: URL-encoded, with a space
 * sent as `+` (so a literal plus arrives as `%2B`).
 */
export function createdKeys(event: S3Event): string[] {
  return (event.Records ?? [])
    .filter((record) => record.eventName?.startsWith('ObjectCreated'))
    .map((record) => decodeURIComponent(record.s3.object.key.replace(/\+/g, ' ')));
}
