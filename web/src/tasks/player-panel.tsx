import type Hls from 'hls.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiKey } from '../api/api-key';
import type { Task } from '../api/client';

/** Types whose tracks are muxed only at the end: nothing of them plays before they finish. */
export const PLAYS_WHEN_DONE_ONLY = new Set(['bilibili', 'youtube']);

/** Whether a task has (or may soon have) something to play: it has finished with its file, or it downloads a type that grows. */
export function canPlay(task: Task): boolean {
  if (task.status === 'success') return task.exists !== false;
  return (task.status === 'downloading' || task.status === 'stopped') && !PLAYS_WHEN_DONE_ONLY.has(task.type);
}

/**
 * Plays a task in the page: a finished task's file; while it downloads, the growing HLS playlist of its segments
 * (through hls.js, loaded only when needed: Chromium has no HLS of its own) or a plain file's completed prefix.
 */
export function PlayerPanel({ task, onClose }: { task: Task; onClose(): void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [state, setState] = useState('Loading…');
  const finished = task.status === 'success';
  useEffect(() => {
    const element = video.current!;
    const key = apiKey.get();
    const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
    // a <video> element cannot send headers: the key goes in the query
    const token = key ? `?token=${encodeURIComponent(key)}` : '';
    const base = `/api/downloads/${task.id}`;
    const resumeAt = Number(element.dataset.position ?? 0);
    let hls: Hls | null = null;
    let cancelled = false;
    const playFile = (label: string) => {
      element.src = `${base}/stream${token}`;
      if (resumeAt > 0) element.addEventListener('loadedmetadata', () => (element.currentTime = resumeAt), { once: true });
      setState(label);
    };
    let retry: ReturnType<typeof setTimeout> | undefined;
    const attempt = async (): Promise<void> => {
      if (finished) return playFile('The finished file');
      const playlist = await fetch(`${base}/stream.m3u8`, { headers });
      if (cancelled) return;
      if (playlist.ok) {
        const { default: HlsPlayer } = await import('hls.js');
        if (cancelled) return;
        if (HlsPlayer.isSupported()) {
          hls = new HlsPlayer({
            // the page's CSP allows no worker from a blob: the demuxing runs on the page
            enableWorker: false,
            xhrSetup: (xhr) => {
              if (key) xhr.setRequestHeader('authorization', `Bearer ${key}`);
            },
          });
          hls.on(HlsPlayer.Events.ERROR, (_event, data) => data.fatal && setState(`Playback stopped: ${data.details}`));
          hls.loadSource(`${base}/stream.m3u8`);
          hls.attachMedia(element);
        } else element.src = `${base}/stream.m3u8${token}`;
        return setState('What has been downloaded so far; more is added as it arrives');
      }
      // not a segmented download: a plain file plays from its completed prefix, if there is one
      const prefix = await fetch(`${base}/stream`, { headers: { ...headers, range: 'bytes=0-0' } });
      if (cancelled) return;
      if (prefix.ok) return playFile('The part downloaded so far (reopen for more)');
      // nothing on disk yet (the first seconds of a run): the service says why; ask again shortly
      const answer = (await playlist.json().catch(() => null)) as { message?: string } | null;
      setState(answer?.message ?? `Nothing to play yet (${playlist.status})`);
      retry = setTimeout(() => void attempt().catch(fail), 2000);
    };
    const fail = (error: unknown) => !cancelled && setState(String((error as Error).message ?? error));
    void attempt().catch(fail);
    return () => {
      cancelled = true;
      clearTimeout(retry);
      element.dataset.position = String(element.currentTime);
      hls?.destroy();
      element.removeAttribute('src');
      element.load();
    };
  }, [task.id, finished]);
  return (
    <aside class="card player-panel" aria-label={`Player of ${task.name}`}>
      <div class="row">
        <h2>Play: {task.name}</h2>
        <button type="button" onClick={onClose}>Close</button>
      </div>
      <video ref={video} controls autoplay muted playsInline aria-label={`Video of ${task.name}`} />
      <p class="hint" role="status">{state}</p>
    </aside>
  );
}
