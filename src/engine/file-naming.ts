import { extname } from 'node:path';
import { headerValue, type HttpResponse } from './http-client.js';

const EXTENSIONS_BY_TYPE: Record<string, string> = {
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/x-matroska': 'mkv',
  'video/quicktime': 'mov',
  'video/x-flv': 'flv',
  'video/mp2t': 'ts',
  'video/x-msvideo': 'avi',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/ogg': 'ogg',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/flac': 'flac',
  'audio/webm': 'weba',
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
  'application/zip': 'zip',
  'application/x-7z-compressed': '7z',
  'application/gzip': 'gz',
  'application/x-tar': 'tar',
  'application/json': 'json',
  'text/plain': 'txt',
  'text/html': 'html',
  'application/vnd.apple.mpegurl': 'm3u8',
  'application/x-mpegurl': 'm3u8',
  'application/dash+xml': 'mpd',
};

const EXTENSION = /^[A-Za-z0-9]{1,8}$/;

/** The file name a Content-Disposition header proposes (filename* preferred), or null. */
export function fileNameFromContentDisposition(value: string | undefined): string | null {
  if (!value) return null;
  const extended = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(value);
  if (extended) {
    try {
      return decodeURIComponent(extended[2].trim().replace(/^"|"$/g, ''));
    } catch {
      // a broken escape: fall through to the plain parameter
    }
  }
  const plain = /filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]+)/i.exec(value);
  if (!plain) return null;
  const name = plain[2] !== undefined ? plain[2].replace(/\\(.)/g, '$1') : plain[1].trim();
  return name || null;
}

/** The last path segment of a URL, decoded, or null. */
export function fileNameFromUrl(url: string): string | null {
  try {
    const segment = new URL(url).pathname.split('/').filter(Boolean).pop();
    return segment ? decodeURIComponent(segment) : null;
  } catch {
    return null;
  }
}

function extensionOf(name: string | null): string | null {
  if (!name) return null;
  const ext = extname(name).slice(1);
  return EXTENSION.test(ext) ? ext.toLowerCase() : null;
}

function stripExtension(name: string): string {
  const ext = extname(name);
  return ext && EXTENSION.test(ext.slice(1)) ? name.slice(0, -ext.length) : name;
}

/** Extension: from Content-Disposition, else the URL (after redirects, then as given), else Content-Type, else "bin". */
export function pickExtension(headers: HttpResponse['headers'], finalUrl: string, requestedUrl: string): string {
  const contentType = headerValue(headers, 'content-type')?.split(';')[0].trim().toLowerCase();
  return (
    extensionOf(fileNameFromContentDisposition(headerValue(headers, 'content-disposition'))) ??
    extensionOf(fileNameFromUrl(finalUrl)) ??
    extensionOf(fileNameFromUrl(requestedUrl)) ??
    (contentType ? EXTENSIONS_BY_TYPE[contentType] : undefined) ??
    'bin'
  );
}

/** A title for a task created without a name: the server's proposed file name, without its extension. */
export function titleFromResponse(headers: HttpResponse['headers']): string | undefined {
  const proposed = fileNameFromContentDisposition(headerValue(headers, 'content-disposition'));
  return proposed ? stripExtension(proposed) : undefined;
}

/** The name a new task gets when the client gave none: the URL's file name without extension. */
export function nameFromUrl(url: string): string {
  const segment = fileNameFromUrl(url);
  if (segment) return stripExtension(segment);
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}
