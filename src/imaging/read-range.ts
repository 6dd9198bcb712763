import { open } from 'node:fs/promises';

/**
 * Up to `length` bytes of an input from `offset`: a slice of a buffer, or one read of a file
 * (uploads are probed from the spooled file, the processor probes bytes in memory).
 */
export async function readRange(input: string | Buffer, offset: number, length: number): Promise<Buffer> {
  if (Buffer.isBuffer(input)) return input.subarray(offset, offset + length);
  const file = await open(input, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(length), 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
