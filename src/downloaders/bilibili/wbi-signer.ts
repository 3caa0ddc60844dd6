import { createHash } from 'node:crypto';

/** The permutation the site's player applies to img_key + sub_key to get the 32-character mixin key. */
export const MIXIN_KEY_TABLE: readonly number[] = [
  46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35, 27, 43, 5, 49, 33, 9, 42, 19, 29, 28, 14, 39, 12, 38, 41, 13, 37, 48, 7, 16, 24, 55, 40,
  61, 26, 17, 0, 1, 60, 51, 30, 4, 22, 25, 54, 21, 56, 59, 6, 63, 57, 62, 11, 36, 20, 34, 44, 52,
];

export interface WbiKeys {
  imgKey: string;
  subKey: string;
}

export type WbiParams = Record<string, string | number | boolean>;

/** The key is the file name of the nav answer's wbi_img URLs, without extension. */
export function wbiKeyFromUrl(url: string): string {
  const file = url.slice(url.lastIndexOf('/') + 1);
  const dot = file.indexOf('.');
  return dot >= 0 ? file.slice(0, dot) : file;
}

export function mixinKey(keys: WbiKeys): string {
  const raw = keys.imgKey + keys.subKey;
  return MIXIN_KEY_TABLE.map((index) => raw[index] ?? '')
    .join('')
    .slice(0, 32);
}

/**
 * The signed query string, as the site's player builds it: params plus wts, keys sorted,
 * `!'()*` dropped from values, encodeURIComponent, then w_rid = md5(query + mixin key).
 */
export function signWbi(params: WbiParams, keys: WbiKeys, wts: number = Math.round(Date.now() / 1000)): string {
  const all: WbiParams = { ...params, wts };
  const query = Object.keys(all)
    .sort()
    .map((name) => `${encodeURIComponent(name)}=${encodeURIComponent(String(all[name]).replace(/[!'()*]/g, ''))}`)
    .join('&');
  const wRid = createHash('md5').update(query + mixinKey(keys)).digest('hex');
  return `${query}&w_rid=${wRid}`;
}
