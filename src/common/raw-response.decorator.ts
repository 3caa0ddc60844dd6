import { SetMetadata } from '@nestjs/common';

export const RAW_RESPONSE = 'mediago:raw-response';

/** Marks a route whose answer is not wrapped in the envelope (the SSE stream, the plain-text export). */
export const RawResponse = () => SetMetadata(RAW_RESPONSE, true);
