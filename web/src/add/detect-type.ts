/** The task types of the API. */
export type TaskType = 'm3u8' | 'bilibili' | 'direct' | 'youtube' | 'mediago';

export const TASK_TYPES: TaskType[] = ['mediago', 'm3u8', 'direct', 'youtube', 'bilibili'];

/** Sites yt-dlp handles that people paste most; any other page link goes to the probing `mediago` type. */
const YTDLP_HOSTS = [
  'youtube.com', 'youtu.be', 'youtube-nocookie.com', 'vimeo.com', 'dailymotion.com', 'twitch.tv', 'twitter.com', 'x.com',
  'tiktok.com', 'instagram.com', 'facebook.com', 'fb.watch', 'reddit.com', 'soundcloud.com', 'bandcamp.com',
  'nicovideo.jp', 'bilibili.tv', 'rumble.com', 'odysee.com', 'streamable.com', 'vk.com', 'ted.com',
];
const BILIBILI_HOSTS = ['bilibili.com', 'b23.tv'];
const FILE_EXTENSIONS = new Set([
  'mp4', 'mkv', 'webm', 'mov', 'avi', 'flv', 'wmv', 'm4v', 'ts', 'mp3', 'm4a', 'aac', 'flac', 'wav', 'ogg', 'opus',
  'zip', 'rar', '7z', 'tar', 'gz', 'xz', 'bz2', 'iso', 'img', 'exe', 'msi', 'dmg', 'pkg', 'deb', 'rpm', 'apk',
  'pdf', 'epub', 'jpg', 'jpeg', 'png', 'gif', 'webp', 'srt', 'vtt', 'bin',
]);

function onHost(host: string, domains: string[]): boolean {
  return domains.some((domain) => host === domain || host.endsWith(`.${domain}`));
}

/** The type a pasted link most likely needs; `mediago` (which probes) when unsure. */
export function detectType(input: string): TaskType {
  const text = input.trim();
  if (/^(BV[0-9A-Za-z]{10}|av\d+)$/.test(text)) return 'bilibili';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'mediago';
  }
  const host = url.hostname.toLowerCase();
  if (onHost(host, BILIBILI_HOSTS)) return 'bilibili';
  if (onHost(host, YTDLP_HOSTS)) return 'youtube';
  const extension = /\.([a-z0-9]{1,5})$/i.exec(url.pathname)?.[1]?.toLowerCase();
  if (extension === 'm3u8' || extension === 'm3u') return 'm3u8';
  if (extension === 'mpd') return 'mediago';
  if (extension && FILE_EXTENSIONS.has(extension)) return 'direct';
  return 'mediago';
}

/** The non-empty lines of a paste, trimmed. */
export function splitLinks(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}
