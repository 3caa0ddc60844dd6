import { useState } from 'preact/hooks';

/** Shown when the service asks for its API key; the key stays in this browser's storage. */
export function KeyPrompt({ refused, onSubmit }: { refused: boolean; onSubmit(key: string): void }) {
  const [key, setKey] = useState('');
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-label="API key">
      <form
        class="card dialog"
        onSubmit={(event) => {
          event.preventDefault();
          if (key.trim()) onSubmit(key.trim());
        }}
      >
        <h2>This service needs its API key</h2>
        <label class="field">
          <span>API key</span>
          <input name="apiKey" type="password" autoComplete="current-password" value={key} autoFocus onInput={(event) => setKey(event.currentTarget.value)} />
        </label>
        {refused && (
          <p class="error" role="alert">
            That key was refused.
          </p>
        )}
        <div class="row end">
          <button type="submit" class="primary">Continue</button>
        </div>
      </form>
    </div>
  );
}
