import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { ApiError, ErrorCode, type FieldProblem } from './error-codes.js';

/** Flattens nested validation errors into one problem per field and sentence, paths like tasks[0].url, each once. */
export function fieldProblems(errors: ValidationError[]): FieldProblem[] {
  const seen = new Set<string>();
  return flattenValidationErrors(errors, '').filter((problem) => {
    const key = `${problem.path}\n${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The same problems as "tasks[0].url must be …" sentences. */
export function describeValidationErrors(errors: ValidationError[]): string[] {
  return fieldProblems(errors).map((problem) => problem.message);
}

function flattenValidationErrors(errors: ValidationError[], parent: string): FieldProblem[] {
  return errors.flatMap((error) => {
    const path = parent ? (/^\d+$/.test(error.property) ? `${parent}[${error.property}]` : `${parent}.${error.property}`) : error.property;
    const own = Object.values(error.constraints ?? {}).map((message): FieldProblem => {
      if (message.startsWith(`${error.property} `)) return { path, message: `${path}${message.slice(error.property.length)}` };
      return { path, message: `${path}: ${message}` };
    });
    return [...own, ...flattenValidationErrors(error.children ?? [], path)];
  });
}

/** The global pipe: unknown fields dropped (clients add cache-busters and extras), known ones converted and checked, every problem listed in one 400. */
/** Route params stay strings here: ParseIdPipe judges "1e3" or "1.5" itself instead of receiving a converted number. */
class ApiValidationPipe extends ValidationPipe {
  protected override transformPrimitive(value: unknown, metadata: ArgumentMetadata): unknown {
    return metadata.type === 'param' ? value : super.transformPrimitive(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe({
    whitelist: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => validationError(fieldProblems(errors)),
  });
}

/** The contract's validation answer: every problem in the message, and each field with its own sentence. */
export function validationError(problems: FieldProblem[]): ApiError {
  return new ApiError(400, ErrorCode.ValidationFailed, `Invalid request: ${problems.map((problem) => problem.message).join('; ')}`, problems);
}
