import type { Task } from '../api/client';
import type { ProgressEvent } from '../api/live-events';
import { formatBytes, formatEta, formatPercent, formatSpeed } from './format';
import { canPlay } from './player-panel';

export interface TaskActions {
  start(task: Task): void;
  stop(task: Task): void;
  remove(task: Task): void;
  edit(task: Task): void;
  toggleLive(task: Task): void;
  showLog(task: Task): void;
  play(task: Task): void;
}

interface Props {
  task: Task;
  live: ProgressEvent | undefined;
  selected: boolean;
  onSelect(selected: boolean): void;
  actions: TaskActions;
  /** Several nodes share the tasks: each row says which node runs it (or saved its file). */
  showNode: boolean;
}

const ACTIVE = new Set(['waiting', 'downloading']);

/** One task: its status, live progress, where it was saved, and what can be done with it. */
export function TaskRow({ task, live, selected, onSelect, actions, showNode }: Props) {
  const running = task.status === 'downloading';
  const figures = running && live ? live : task;
  const percent = task.status === 'success' ? 100 : figures.percent;
  const idle = task.status === 'waiting' && !task.queuedAt;
  const exists = task.exists;
  return (
    <li class={`task status-${task.status}`} data-id={task.id} aria-label={task.name}>
      <input type="checkbox" class="select" aria-label={`Select ${task.name}`} checked={selected} onChange={(event) => onSelect(event.currentTarget.checked)} />
      <div class="body">
        <div class="title">
          <strong class="name">{task.name}</strong>
          <span class="type">{task.type}</span>
          {task.isLive && <span class="badge live">live</span>}
          <span class={`badge status`} data-status={task.status}>
            {idle ? 'idle' : task.status}
          </span>
          {showNode && task.node && (
            <span class="badge node" title={task.status === 'downloading' ? 'the node running it' : 'the node that ran it (its file is on that node unless the download folder is shared)'}>
              on {task.node}
            </span>
          )}
        </div>
        <progress max={100} value={percent ?? undefined} aria-label={`Progress of ${task.name}`} />
        <div class="figures">
          <span class="percent">{formatPercent(percent)}</span>
          <span class="bytes">
            {formatBytes(figures.downloadedBytes)}
            {figures.totalBytes ? ` / ${formatBytes(figures.totalBytes)}` : ''}
          </span>
          {running && <span class="speed">{formatSpeed(figures.speed)}</span>}
          {running && <span class="eta">{formatEta(figures.eta)}</span>}
        </div>
        {task.error && task.status === 'failed' && (
          <p class="error task-error" role="status">
            {task.error}
          </p>
        )}
        {task.file && (
          <p class={`saved ${exists === false ? 'gone' : ''}`}>
            <code class="path">{task.file}</code>
            {exists === false && <span> (file no longer on disk)</span>}
            <button type="button" class="link" onClick={() => navigator.clipboard?.writeText(task.file!)} aria-label={`Copy the path of ${task.name}`}>
              Copy
            </button>
          </p>
        )}
      </div>
      <div class="actions">
        {ACTIVE.has(task.status) && !idle ? (
          <button type="button" onClick={() => actions.stop(task)}>Stop</button>
        ) : (
          <button type="button" class="primary" onClick={() => actions.start(task)}>
            {task.status === 'failed' ? 'Retry' : task.status === 'success' ? 'Again' : 'Start'}
          </button>
        )}
        {canPlay(task) && (
          <button type="button" onClick={() => actions.play(task)} aria-label={`Play ${task.name}`}>
            Play
          </button>
        )}
        <button type="button" onClick={() => actions.showLog(task)}>Log</button>
        <button type="button" onClick={() => actions.edit(task)} disabled={running}>Edit</button>
        <button type="button" onClick={() => actions.toggleLive(task)} aria-pressed={task.isLive}>Live</button>
        <button type="button" class="danger" onClick={() => actions.remove(task)}>Delete</button>
      </div>
    </li>
  );
}
