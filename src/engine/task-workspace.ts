import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathExists } from '../common/file-system.js';
import { resolveInside } from '../common/path-safety.js';

/**
 * A task's hidden working directory beside its output, kept across runs so that a later run resumes:
 * the one place that knows its layout. The lifecycle moves and deletes it, the scheduler creates and
 * clears it, strategies keep their state files in it.
 */
export class TaskWorkspace {
  private constructor(
    /** Where the task's finished file goes: its directory (or the default) joined with its folder. */
    readonly outputDir: string,
    readonly path: string,
  ) {}

  /** The workspace of task `id` saving into `base`/`folder`; rejects when the folder would leave `base`. */
  static async of(id: number, base: string, folder: string): Promise<TaskWorkspace> {
    const outputDir = await resolveInside(base, folder || '.');
    return new TaskWorkspace(outputDir, join(outputDir, `.mediago-task-${id}`));
  }

  async create(): Promise<void> {
    await mkdir(this.path, { recursive: true });
  }

  /** Empties it for a run that must not resume (a finished task downloaded again). */
  async clear(): Promise<void> {
    await this.remove();
    await this.create();
  }

  async remove(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }

  /**
   * Partial data follows the task to its new place, so that a later start resumes it. Across file systems it
   * cannot follow cheaply and is dropped rather than left behind. Says what happened, or null if there was nothing to move.
   */
  async moveTo(target: TaskWorkspace): Promise<'moved' | 'dropped' | null> {
    if (target.path === this.path || !(await pathExists(this.path))) return null;
    await mkdir(dirname(target.path), { recursive: true });
    await target.remove();
    try {
      await rename(this.path, target.path);
      return 'moved';
    } catch {
      await this.remove();
      return 'dropped';
    }
  }
}

/** Writes a state file whole or not at all: a crash mid-write leaves the previous version. */
export async function writeStateFile(path: string, state: unknown): Promise<void> {
  await writeFile(`${path}.part`, JSON.stringify(state));
  await rename(`${path}.part`, path);
}

/** A state file written by writeStateFile, or null when there is none or it cannot be read. */
export async function readStateFile<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}
