/** One permission an S3 request needs: an IAM action on a resource ARN, with its condition keys. */
export interface S3Authorization {
  action: string;
  resource: string;
  context?: Record<string, string>;
}

/**
 * The IAM permissions S3 checks for a path-style request (`/bucket/key?subresource`), after AWS's
 * "Actions, resources, and condition keys for Amazon S3". A request this does not know throws, so
 * a new kind of call fails the test that makes it instead of passing unchecked.
 */
export function s3Authorizations(method: string, url: URL, headers: Record<string, string | string[] | undefined>): S3Authorization[] {
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = rest.map(decodeURIComponent).join('/');
  const q = url.searchParams;
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const objectArn = `${bucketArn}/${key}`;
  const unknown = () => new Error(`no IAM mapping for S3 request ${method} ${url.pathname}${url.search}`);

  if (!bucket) throw unknown();
  if (!key) {
    if ((method === 'GET' && !hasSubresource(q, ['list-type', 'prefix', 'delimiter', 'continuation-token', 'start-after', 'max-keys', 'encoding-type', 'fetch-owner'])) || method === 'HEAD') {
      return [{ action: 's3:ListBucket', resource: bucketArn, context: { 's3:prefix': q.get('prefix') ?? '' } }];
    }
    if (method === 'GET' && q.has('location')) return [{ action: 's3:GetBucketLocation', resource: bucketArn }];
    throw unknown();
  }

  const multipart = q.has('uploadId') || q.has('uploads');
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (q.has('uploadId')) return [{ action: 's3:ListMultipartUploadParts', resource: objectArn }];
      if (q.has('tagging')) return [{ action: 's3:GetObjectTagging', resource: objectArn }];
      if (hasSubresource(q, ['response-content-type', 'response-content-disposition', 'response-cache-control', 'response-expires', 'response-content-language', 'response-content-encoding', 'partNumber'])) throw unknown();
      return [{ action: 's3:GetObject', resource: objectArn }];
    case 'PUT': {
      if (q.has('tagging')) return [{ action: 's3:PutObjectTagging', resource: objectArn }];
      if (q.has('acl')) return [{ action: 's3:PutObjectAcl', resource: objectArn }];
      if (hasSubresource(q, ['partNumber', 'uploadId'])) throw unknown();
      const needs: S3Authorization[] = [{ action: 's3:PutObject', resource: objectArn }];
      const source = headers['x-amz-copy-source'];
      if (typeof source === 'string') {
        const path = decodeURIComponent(source.replace(/^\//, '').split('?')[0]!);
        needs.push({ action: 's3:GetObject', resource: `arn:aws:s3:::${path}` });
      }
      if (headers['x-amz-tagging']) needs.push({ action: 's3:PutObjectTagging', resource: objectArn });
      if (headers['x-amz-acl']) needs.push({ action: 's3:PutObjectAcl', resource: objectArn });
      return needs;
    }
    case 'POST':
      if (multipart) return [{ action: 's3:PutObject', resource: objectArn }];
      throw unknown();
    case 'DELETE':
      if (q.has('uploadId')) return [{ action: 's3:AbortMultipartUpload', resource: objectArn }];
      if (hasSubresource(q, [])) throw unknown();
      return [{ action: 's3:DeleteObject', resource: objectArn }];
    default:
      throw unknown();
  }
}

/** Whether the query has a parameter other than these and SigV4's own (a subresource this table does not know). */
function hasSubresource(query: URLSearchParams, known: string[]): boolean {
  // x-id is the SDK's own label of the operation; X-Amz-* are a presigned URL's signature.
  return [...query.keys()].some((name) => !known.includes(name) && name !== 'x-id' && !name.toLowerCase().startsWith('x-amz-'));
}
