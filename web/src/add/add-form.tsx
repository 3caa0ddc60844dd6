import { useMemo, useState } from 'preact/hooks';
import { ApiFailure } from '../api/client';
import { type NewTask, type ResolvedLink, tasksApi } from '../api/tasks';
import { formatEta } from '../tasks/format';
import { TASK_TYPES, type TaskType, detectType, splitLinks } from './detect-type';

interface Props {
  folders: string[];
  onCreated(): void;
}

/** The picture heights offered; the API takes any height (the tallest picture not above it is downloaded). */
const QUALITIES = ['best', '2160', '1440', '1080', '720', '480', '360', 'audio'] as const;

/** Paste one or many links; each gets a detected type that can be changed. */
export function AddForm({ folders, onCreated }: Props) {
  const [links, setLinks] = useState('');
  const [overrides, setOverrides] = useState<Record<number, TaskType>>({});
  const [name, setName] = useState('');
  const [folder, setFolder] = useState('');
  const [headers, setHeaders] = useState('');
  const [isLive, setIsLive] = useState(false);
  const [quality, setQuality] = useState('');
  const [audioLanguage, setAudioLanguage] = useState('');
  const [subtitleLanguages, setSubtitleLanguages] = useState('');
  const [expand, setExpand] = useState(false);
  /** The entries of the one pasted link, once listed; the numbers of those to add. */
  const [listing, setListing] = useState<ResolvedLink | null>(null);
  const [picked, setPicked] = useState<Set<number>>(new Set());
  const [listingBusy, setListingBusy] = useState(false);
  const [startNow, setStartNow] = useState(true);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});

  const urls = useMemo(() => splitLinks(links), [links]);
  const typeOf = (index: number) => overrides[index] ?? detectType(urls[index]);
  // a listing is of the link and type it was made for: another link or type drops it
  const shown = listing && urls.length === 1 && listing.url === urls[0] && listing.type === typeOf(0) ? listing : null;

  async function listEntries() {
    setListingBusy(true);
    setErrors({});
    try {
      const found = await tasksApi.resolve(typeOf(0), urls[0], headers.trim() || undefined);
      setListing(found);
      setPicked(everyEntry(found));
    } catch (error) {
      setListing(null);
      // the resolver's answer concerns the one link: shown under it
      setErrors({ links: error instanceof Error ? error.message : String(error) });
    } finally {
      setListingBusy(false);
    }
  }

  function toggle(number: number, on: boolean) {
    const next = new Set(picked);
    if (on) next.add(number);
    else next.delete(number);
    setPicked(next);
  }

  async function submit(event: Event) {
    event.preventDefault();
    if (urls.length === 0) {
      setErrors({ links: 'Paste at least one link.' });
      return;
    }
    if (shown && picked.size === 0) {
      setErrors({ links: 'Tick at least one entry.' });
      return;
    }
    setBusy(true);
    setErrors({});
    // with a listing, one task per ticked entry, named by its title; else one task (or one expand) per link
    const items = shown
      ? shown.entries.filter((entry) => picked.has(entry.number)).map((entry) => ({ type: typeOf(0), url: entry.url, name: entry.title ?? undefined }))
      : urls.map((url, index) => ({ type: typeOf(index), url, name: name.trim() && urls.length === 1 ? name.trim() : undefined }));
    const tasks: NewTask[] = items.map((item) => ({
      type: item.type,
      url: item.url,
      isLive,
      ...(item.name ? { name: item.name } : {}),
      ...(folder.trim() ? { folder: folder.trim() } : {}),
      ...(headers.trim() ? { headers: headers.trim() } : {}),
      ...(quality ? { quality: /^\d+$/.test(quality) ? Number(quality) : quality } : {}),
      ...(audioLanguage.trim() ? { audioLanguage: audioLanguage.trim() } : {}),
      ...(subtitleLanguages.trim() ? { subtitleLanguages: subtitleLanguages.trim() } : {}),
      ...(expand && !shown ? { expand: true } : {}),
    }));
    try {
      await tasksApi.create(tasks, startNow);
      setLinks('');
      setOverrides({});
      setName('');
      setListing(null);
      onCreated();
    } catch (error) {
      setErrors(fieldErrors(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card add-form" onSubmit={submit} aria-label="Add downloads">
      <label class="field">
        <span>Links, one per line</span>
        <textarea
          name="links"
          rows={3}
          value={links}
          placeholder="https://example.com/video.m3u8"
          aria-invalid={errors.links ? 'true' : undefined}
          onInput={(event) => setLinks(event.currentTarget.value)}
        />
        {errors.links && <small class="error" role="alert">{errors.links}</small>}
      </label>
      {urls.length > 0 && (
        <ul class="detected" aria-label="Detected types">
          {urls.map((url, index) => (
            <li key={`${index}-${url}`}>
              <select
                aria-label={`Type of ${url}`}
                value={typeOf(index)}
                onChange={(event) => setOverrides({ ...overrides, [index]: event.currentTarget.value as TaskType })}
              >
                {TASK_TYPES.map((type) => (
                  <option value={type}>{type}</option>
                ))}
              </select>
              <span class="url">{url}</span>
              {errors[`tasks[${index}]`] && <small class="error" role="alert">{errors[`tasks[${index}]`]}</small>}
            </li>
          ))}
        </ul>
      )}
      {urls.length === 1 && !shown && (
        <div class="row">
          <button type="button" onClick={listEntries} disabled={listingBusy}>
            {listingBusy ? 'Listing…' : 'List entries (playlist, parts, season)'}
          </button>
        </div>
      )}
      {shown && (
        <fieldset class="entries" aria-label="Entries">
          <legend>
            {shown.title ?? shown.url}: {shown.entries.length} {shown.entries.length === 1 ? 'entry' : 'entries'}
            {shown.truncated ? ` (the link holds ${shown.total ?? 'more'}; the first ${shown.entries.length} are listed)` : ''}
          </legend>
          <label class="check">
            <input
              type="checkbox"
              checked={picked.size === shown.entries.length}
              onChange={(event) => setPicked(event.currentTarget.checked ? everyEntry(shown) : new Set())}
            />{' '}
            All
          </label>
          <ul>
            {shown.entries.map((entry) => (
              <li key={entry.number}>
                <label class="check">
                  <input type="checkbox" checked={picked.has(entry.number)} onChange={(event) => toggle(entry.number, event.currentTarget.checked)} /> {entry.number}.{' '}
                  {entry.title ?? entry.url}
                  {entry.duration !== null ? ` (${formatEta(entry.duration)})` : ''}
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
      )}
      <div class="row">
        <label class="field">
          <span>Name{urls.length > 1 ? ' (one link only)' : ''}</span>
          <input name="name" value={name} disabled={urls.length > 1 || shown !== null} placeholder={shown ? "each entry's title" : "derived from the link"} onInput={(event) => setName(event.currentTarget.value)} />
          {errors.name && <small class="error" role="alert">{errors.name}</small>}
        </label>
        <label class="field">
          <span>Folder</span>
          <input name="folder" list="folders" value={folder} placeholder="optional sub-folder" onInput={(event) => setFolder(event.currentTarget.value)} />
          <datalist id="folders">
            {folders.map((known) => (
              <option value={known} />
            ))}
          </datalist>
          {errors.folder && <small class="error" role="alert">{errors.folder}</small>}
        </label>
      </div>
      <details>
        <summary>Headers and live recording</summary>
        <label class="field">
          <span>Headers, one "Name: value" per line</span>
          <textarea name="headers" rows={2} value={headers} placeholder="Referer: https://example.com/" onInput={(event) => setHeaders(event.currentTarget.value)} />
          {errors.headers && <small class="error" role="alert">{errors.headers}</small>}
        </label>
        <label class="check">
          <input type="checkbox" checked={isLive} onChange={(event) => setIsLive(event.currentTarget.checked)} /> Live stream: record until stopped
        </label>
      </details>
      <details>
        <summary>Quality, languages and playlists</summary>
        <div class="row">
          <label class="field">
            <span>Quality</span>
            <select name="quality" value={quality} onChange={(event) => setQuality(event.currentTarget.value)}>
              <option value="">the service's default</option>
              {QUALITIES.map((each) => (
                <option value={each}>{each === 'best' ? 'best' : each === 'audio' ? 'sound only' : `up to ${each} lines`}</option>
              ))}
            </select>
            {errors.quality && <small class="error" role="alert">{errors.quality}</small>}
          </label>
          <label class="field">
            <span>Audio language</span>
            <input name="audioLanguage" value={audioLanguage} placeholder="ja,en (best first)" onInput={(event) => setAudioLanguage(event.currentTarget.value)} />
            {errors.audioLanguage && <small class="error" role="alert">{errors.audioLanguage}</small>}
          </label>
          <label class="field">
            <span>Subtitles</span>
            <input name="subtitleLanguages" value={subtitleLanguages} placeholder="zh,en" onInput={(event) => setSubtitleLanguages(event.currentTarget.value)} />
            {errors.subtitleLanguages && <small class="error" role="alert">{errors.subtitleLanguages}</small>}
          </label>
        </div>
        <label class="check">
          <input type="checkbox" name="expand" checked={expand} onChange={(event) => setExpand(event.currentTarget.checked)} /> Playlist or channel: one download per entry
        </label>
        {errors.expand && <small class="error" role="alert">{errors.expand}</small>}
      </details>
      <div class="row end">
        <label class="check">
          <input type="checkbox" name="startNow" checked={startNow} onChange={(event) => setStartNow(event.currentTarget.checked)} /> Start now
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Adding…' : addLabel(shown ? picked.size : urls.length)}
        </button>
      </div>
      {errors.form && <p class="error" role="alert">{errors.form}</p>}
    </form>
  );
}

function addLabel(count: number): string {
  return count > 1 ? `Add ${count} downloads` : 'Add download';
}

/** The numbers of every entry a listing holds. */
function everyEntry(link: ResolvedLink): Set<number> {
  return new Set(link.entries.map((entry) => entry.number));
}

/** The API's field errors placed next to the inputs they concern; the rest under the form. */
function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiFailure)) return { form: error instanceof Error ? error.message : String(error) };
  if (error.fields.length === 0) return { form: error.message };
  const placed: Record<string, string> = {};
  for (const { path, message } of error.fields) {
    const task = /^tasks\[(\d+)\](?:\.(\w+))?/.exec(path);
    const field = task?.[2];
    const key = field === 'url' || field === 'type' || !field ? (task ? `tasks[${task[1]}]` : 'form') : field;
    placed[key] = placed[key] ? `${placed[key]}; ${message}` : message;
  }
  return placed;
}
