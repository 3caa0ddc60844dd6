/** The contract's response envelope. */
export interface Envelope<T> {
  success: boolean;
  code: number;
  message: string;
  data: T | null;
}

export function okEnvelope<T>(data: T): Envelope<T> {
  return { success: true, code: 0, message: 'ok', data };
}

export function errorEnvelope(status: number, message: string): Envelope<null> {
  return { success: false, code: status, message, data: null };
}
