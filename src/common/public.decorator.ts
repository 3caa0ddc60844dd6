import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'mediago:public-route';

/** A route that never needs the API key (the health probe). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
