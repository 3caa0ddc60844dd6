import { formatSpeed } from '../tasks/format';
import type { ServiceSettings } from '../api/tasks';

/** The service's live settings as GET /api/settings shows them (secrets only as set or not). */
export function SettingsPanel({ settings }: { settings: ServiceSettings }) {
  const rows: Array<[string, string]> = [
    ['Downloads at once', String(settings.maxConcurrentDownloads.value)],
    ['Speed limit', settings.speedLimit.value > 0 ? formatSpeed(settings.speedLimit.value) : 'none'],
    ['Download folder', settings.downloadDir.value],
    ['Tries per request', String(settings.retryAttempts.value)],
    ['Proxy', settings.proxy.value ? `${settings.proxy.value}${settings.proxy.credentialsSet ? ' (with credentials)' : ''}` : 'none'],
    ['Webhooks', settings.webhookUrls.value.length > 0 ? `${settings.webhookUrls.value.length} (${settings.webhookEvents.value.join(', ')})` : 'none'],
  ];
  return (
    <details class="settings">
      <summary>Settings</summary>
      <dl aria-label="Settings">
        {rows.map(([name, value]) => (
          <>
            <dt>{name}</dt>
            <dd data-setting={name}>{value}</dd>
          </>
        ))}
      </dl>
      <p class="hint">
        Change them through <a href="/docs">the API</a> (PUT /api/settings).
      </p>
    </details>
  );
}
