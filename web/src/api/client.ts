import createClient, { type Middleware } from 'openapi-fetch';
import { apiKey } from './api-key';
import type { components, paths } from './schema';

export type Task = components['schemas']['DownloadTaskDto'];

/** An answer with success:false, as the API describes it. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorCode: string | null,
    readonly fields: Array<{ path: string; message: string }>,
  ) {
    super(message);
  }
}

/** Listeners told when the API answers 401 (the key is missing or wrong). */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

const withKey: Middleware = {
  onRequest({ request }) {
    const key = apiKey.get();
    if (key) request.headers.set('Authorization', `Bearer ${key}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) for (const listener of unauthorizedListeners) listener();
    return response;
  },
};

/** The typed client, generated from the service's OpenAPI document (src/api/schema.d.ts). */
export const api = createClient<paths>({ baseUrl: '' });
api.use(withKey);

interface Envelope<T> {
  success: boolean;
  code: number;
  message: string;
  data: T;
  errorCode?: string;
  fields?: Array<{ path: string; message: string }>;
}

/** The envelope's data, or an ApiFailure carrying the service's message, errorCode and fields. */
export async function unwrap<T>(call: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  const body = (data ?? error) as Envelope<T> | undefined;
  if (!response.ok || !body || body.success === false) {
    throw new ApiFailure(response.status, body?.message ?? `The service answered HTTP ${response.status}`, body?.errorCode ?? null, body?.fields ?? []);
  }
  return body.data;
}
