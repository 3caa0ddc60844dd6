import type { ErrorCode, FieldProblem } from './error-codes.js';

/** The contract's response envelope. */
export interface Envelope<T> {
  success: boolean;
  code: number;
  message: string;
  data: T | null;
  /** errors only: the contract's stable word for the problem */
  errorCode?: ErrorCode;
  /** validation errors only: each field at fault */
  fields?: FieldProblem[];
}

export function okEnvelope<T>(data: T): Envelope<T> {
  return { success: true, code: 0, message: 'ok', data };
}

export function errorEnvelope(status: number, message: string, errorCode: ErrorCode, fields?: FieldProblem[]): Envelope<null> {
  return { success: false, code: status, message, data: null, errorCode, ...(fields ? { fields } : {}) };
}
