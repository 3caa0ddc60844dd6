import { useEffect, useState } from 'preact/hooks';
import type { Task } from '../api/client';
import { tasksApi } from '../api/tasks';

/** What the task's runs did, newest at the bottom; refreshed while the task runs. */
export function LogPanel({ task, onClose }: { task: Task; onClose(): void }) {
  const [log, setLog] = useState<string>('Loading…');
  useEffect(() => {
    let stopped = false;
    const load = () => tasksApi.logs(task.id).then((answer) => !stopped && setLog(answer.log || '(nothing logged yet)'), (error) => !stopped && setLog(String(error.message ?? error)));
    void load();
    const timer = setInterval(load, 2000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [task.id]);
  return (
    <aside class="card log-panel" aria-label={`Log of ${task.name}`}>
      <div class="row">
        <h2>Log: {task.name}</h2>
        <button type="button" onClick={onClose}>Close</button>
      </div>
      <pre>{log}</pre>
    </aside>
  );
}
