import { useState } from 'preact/hooks';
import { ApiFailure, type Task } from '../api/client';
import { tasksApi } from '../api/tasks';

/** Edit a task's name, folder, URL and headers (not while it downloads). */
export function EditDialog({ task, onClose }: { task: Task; onClose(changed: boolean): void }) {
  const [values, setValues] = useState({ name: task.name, folder: task.folder ?? '', url: task.url, headers: task.headers ?? '' });
  const [error, setError] = useState<string | null>(null);

  async function save(event: Event) {
    event.preventDefault();
    try {
      await tasksApi.edit(task.id, values);
      onClose(true);
    } catch (failure) {
      setError(failure instanceof ApiFailure ? failure.fields.map((field) => field.message).join('; ') || failure.message : String(failure));
    }
  }

  const field = (key: keyof typeof values, label: string, multiline = false) => (
    <label class="field">
      <span>{label}</span>
      {multiline ? (
        <textarea rows={3} value={values[key]} onInput={(event) => setValues({ ...values, [key]: event.currentTarget.value })} />
      ) : (
        <input value={values[key]} onInput={(event) => setValues({ ...values, [key]: event.currentTarget.value })} />
      )}
    </label>
  );

  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-label={`Edit ${task.name}`} onKeyDown={(event) => event.key === 'Escape' && onClose(false)}>
      <form class="card dialog" onSubmit={save}>
        <h2>Edit “{task.name}”</h2>
        {field('name', 'Name')}
        {field('folder', 'Folder')}
        {field('url', 'URL')}
        {field('headers', 'Headers', true)}
        {error && <p class="error" role="alert">{error}</p>}
        <div class="row end">
          <button type="button" onClick={() => onClose(false)}>Cancel</button>
          <button type="submit" class="primary">Save</button>
        </div>
      </form>
    </div>
  );
}
