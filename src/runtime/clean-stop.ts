import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Files another tool drops into the originals folder while the server is down are found at start-up
 * by naming everything in it: cheap per file, but it grows with the store. A clean stop records the
 * folder's modification time; when the next start finds it unchanged, nothing was added or removed
 * in between and that listing is skipped. The record is consumed at start, so after a crash (no
 * record) the folder is always listed.
 */
export function cleanStopRecord(recordPath: string, folder: string) {
  const folderTime = async () => (await stat(folder, { bigint: true }).catch(() => undefined))?.mtimeNs.toString();
  return {
    /** True when the folder is as the last clean stop left it. Forgets the record either way. */
    async unchangedSinceStop(): Promise<boolean> {
      const recorded = await readFile(recordPath, 'utf8').catch(() => undefined);
      await rm(recordPath, { force: true });
      const now = await folderTime();
      return recorded !== undefined && now !== undefined && recorded === now;
    },
    /** Called before the folder stops being watched: a file dropped after this changes the time again. */
    async stopping(): Promise<void> {
      const now = await folderTime();
      if (now === undefined) return;
      await mkdir(dirname(recordPath), { recursive: true });
      await writeFile(recordPath, now);
    },
  };
}
