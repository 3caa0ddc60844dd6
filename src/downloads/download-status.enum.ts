export enum DownloadStatus {
  Waiting = 'waiting',
  Downloading = 'downloading',
  Success = 'success',
  Failed = 'failed',
  Stopped = 'stopped',
}

export enum DownloadType {
  M3u8 = 'm3u8',
  Bilibili = 'bilibili',
  Direct = 'direct',
  Youtube = 'youtube',
  Mediago = 'mediago',
}

export const DOWNLOAD_STATUSES = Object.values(DownloadStatus);
export const DOWNLOAD_TYPES = Object.values(DownloadType);
