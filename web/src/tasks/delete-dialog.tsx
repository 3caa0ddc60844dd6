import { useState } from 'preact/hooks';

/** Confirms a delete of one or more tasks, with or without their files and partial data. */
export function DeleteDialog({ what, onClose }: { what: string; onClose(choice: { deleteFile: boolean } | null): void }) {
  const [deleteFile, setDeleteFile] = useState(false);
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-label={`Delete ${what}`} onKeyDown={(event) => event.key === 'Escape' && onClose(null)}>
      <form
        class="card dialog"
        onSubmit={(event) => {
          event.preventDefault();
          onClose({ deleteFile });
        }}
      >
        <h2>Delete {what}?</h2>
        <label class="check">
          <input type="checkbox" name="deleteFile" checked={deleteFile} onChange={(event) => setDeleteFile(event.currentTarget.checked)} /> Also delete the
          downloaded file and partial data
        </label>
        <div class="row end">
          <button type="button" onClick={() => onClose(null)} autoFocus>
            Cancel
          </button>
          <button type="submit" class="danger">
            Delete
          </button>
        </div>
      </form>
    </div>
  );
}
