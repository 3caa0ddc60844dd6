import { isAbsolute } from 'node:path';
import { type ValidationArguments, ValidatorConstraint, type ValidatorConstraintInterface, registerDecorator, type ValidationOptions } from 'class-validator';
import { HeaderLinesError, parseHeaderLines } from '../../common/header-lines.js';
import { folderProblem } from '../../common/path-safety.js';
import { DownloadType } from '../../common/download-type.enum.js';

const BILIBILI_ID = /^(BV[0-9A-Za-z]{10}|av\d+)$/i;

/** Why a task URL is refused, or null; a bare BV/av id is a valid URL for the bilibili type only. */
export function urlProblem(url: unknown, type: unknown): string | null {
  if (typeof url !== 'string' || url.trim() === '') return 'must be a non-empty string';
  const value = url.trim();
  if (value.length > 8192) return 'must be at most 8192 characters';
  if (type === DownloadType.Bilibili && BILIBILI_ID.test(value)) return null;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return type === DownloadType.Bilibili ? 'must be an http(s):// URL or a BV…/av… id' : 'must be an http(s):// URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must use http:// or https://';
  return null;
}

export function constraint(name: string, check: (value: unknown, args: ValidationArguments) => string | null) {
  @ValidatorConstraint({ name })
  class Constraint implements ValidatorConstraintInterface {
    private problem: string | null = null;
    validate(value: unknown, args: ValidationArguments): boolean {
      this.problem = check(value, args);
      return this.problem === null;
    }
    defaultMessage(args: ValidationArguments): string {
      return `${args.property} ${check(args.value, args) ?? 'is invalid'}`;
    }
  }
  return (options?: ValidationOptions): PropertyDecorator => (target: object, propertyName: string | symbol) =>
    registerDecorator({ target: target.constructor, propertyName: String(propertyName), options, constraints: [], validator: Constraint });
}

/** url: http(s), or a bare BV/av id when the sibling `type` is bilibili. */
export const IsTaskUrl = constraint('isTaskUrl', (value, args) => urlProblem(value, (args.object as { type?: unknown }).type));

/** A relative sub-directory: no absolute path, no "..", no NUL. */
export const IsSafeFolder = constraint('isSafeFolder', (value) => (typeof value === 'string' ? folderProblem(value) : 'must be a string'));

/** Header lines, a JSON array of lines, or an object; no CR/LF in a value, a ":" on every line. */
export const IsHeaderLines = constraint('isHeaderLines', (value) => {
  try {
    parseHeaderLines(value);
    return null;
  } catch (error) {
    return error instanceof HeaderLinesError ? `are invalid: ${error.message}` : 'are invalid';
  }
});

/** A name with no NUL byte and of a sane length. */
export const IsTaskName = constraint('isTaskName', (value) => {
  if (typeof value !== 'string') return 'must be a string';
  if (value.includes('\0')) return 'must not contain a NUL byte';
  return value.length > 1000 ? 'must be at most 1000 characters' : null;
});

/** An absolute directory for localPath. */
export const IsAbsoluteDirectory = constraint('isAbsoluteDirectory', (value) => {
  if (typeof value !== 'string' || value.trim() === '') return 'must be a non-empty string';
  if (value.includes('\0')) return 'must not contain a NUL byte';
  return isAbsolute(value) ? null : 'must be an absolute path';
});
