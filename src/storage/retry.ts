import { isAppError } from '../errors.js';

/**
 * Runs `work` again after a transient failure (a dropped connection, a throttled request), waiting
 * longer each time. AppErrors are answers, not accidents, so they are never retried.
 */
export async function withRetry<T>(work: () => Promise<T>, attempts = 3, firstDelayMs = 50): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || isAppError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, firstDelayMs * 2 ** (attempt - 1)));
    }
  }
}
