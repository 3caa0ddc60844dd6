import { type ArgumentMetadata, BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';

/** Flattens nested validation errors into "tasks[0].url must be …" sentences, every field named, each once. */
export function describeValidationErrors(errors: ValidationError[]): string[] {
  return [...new Set(flattenValidationErrors(errors, ''))];
}

function flattenValidationErrors(errors: ValidationError[], parent: string): string[] {
  return errors.flatMap((error) => {
    const path = parent ? (/^\d+$/.test(error.property) ? `${parent}[${error.property}]` : `${parent}.${error.property}`) : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => {
      if (message.startsWith(`${error.property} `)) return `${path}${message.slice(error.property.length)}`;
      // the whitelist's own wording: "property x should not exist"
      if (message.startsWith(`property ${error.property} `)) return `${path}${message.slice(`property ${error.property}`.length)}`;
      return `${path}: ${message}`;
    });
    return [...own, ...flattenValidationErrors(error.children ?? [], path)];
  });
}

/** The global pipe: unknown fields refused, types converted, every problem listed in one 400. */
/** Route params stay strings here: ParseIdPipe judges "1e3" or "1.5" itself instead of receiving a converted number. */
class ApiValidationPipe extends ValidationPipe {
  protected override transformPrimitive(value: unknown, metadata: ArgumentMetadata): unknown {
    return metadata.type === 'param' ? value : super.transformPrimitive(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => new BadRequestException(`Invalid request: ${describeValidationErrors(errors).join('; ')}`),
  });
}
