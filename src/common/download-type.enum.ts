/**
 * The task types of the contract. They live here, below every layer, because the API validates them, the
 * task store keeps them and each strategy names itself by one.
 */
export enum DownloadType {
  M3u8 = 'm3u8',
  Bilibili = 'bilibili',
  Direct = 'direct',
  Youtube = 'youtube',
  Mediago = 'mediago',
}

export const DOWNLOAD_TYPES = Object.values(DownloadType);
