import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { withRetry } from '../../src/storage/retry.js';

describe('withRetry', () => {
  it('tries a transient failure again and returns the first success', async () => {
    let calls = 0;
    const result = await withRetry(async () => {
      calls++;
      if (calls < 3) throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
      return 'ok';
    }, 3, 1);
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up after the last attempt with the last error', async () => {
    let calls = 0;
    await expect(withRetry(async () => {
      calls++;
      throw new Error(`failure ${calls}`);
    }, 3, 1)).rejects.toThrow('failure 3');
  });

  it('never retries an AppError, which is an answer', async () => {
    let calls = 0;
    await expect(withRetry(async () => {
      calls++;
      throw new AppError(415, 'unsupported_format', 'no');
    }, 3, 1)).rejects.toMatchObject({ code: 'unsupported_format' });
    expect(calls).toBe(1);
  });
});
