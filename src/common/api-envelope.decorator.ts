import { type Type, applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';

/** Documents a 200 answer as the envelope around `model` (or an array of it, or {}). */
export function ApiEnvelope(model: Type<unknown> | 'empty' | 'strings', options: { isArray?: boolean; status?: number; description?: string } = {}) {
  const data =
    model === 'empty'
      ? { type: 'object', example: {} }
      : model === 'strings'
        ? { type: 'array', items: { type: 'string' } }
        : options.isArray
          ? { type: 'array', items: { $ref: getSchemaPath(model) } }
          : { $ref: getSchemaPath(model) };
  const decorators = [
    ApiResponse({
      status: options.status ?? 200,
      description: options.description ?? 'Success, in the envelope',
      schema: {
        type: 'object',
        properties: {
          success: { type: 'boolean', example: true },
          code: { type: 'number', example: 0 },
          message: { type: 'string', example: 'ok' },
          data,
        },
      },
    }),
  ];
  return applyDecorators(...(typeof model === 'string' ? [] : [ApiExtraModels(model)]), ...decorators);
}

/** The error answers every route can give, in the envelope. */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: `Error, in the envelope (code ${status})`,
        schema: {
          type: 'object',
          properties: {
            success: { type: 'boolean', example: false },
            code: { type: 'number', example: status },
            message: { type: 'string' },
            data: { type: 'null', nullable: true },
          },
        },
      }),
    ),
  );
}
