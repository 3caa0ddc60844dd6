export enum DownloadStatus {
  Waiting = 'waiting',
  Downloading = 'downloading',
  Success = 'success',
  Failed = 'failed',
  Stopped = 'stopped',
}

export const DOWNLOAD_STATUSES = Object.values(DownloadStatus);
