import { stat } from 'node:fs/promises';

/** True when something exists at path (a file or a directory). */
export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
