/** Raised inside the app after PUT /api/settings changed the live configuration; listeners re-read the fields they use. */
export const SETTINGS_CHANGED = 'settings.changed';

export interface SettingsChangedPayload {
  keys: string[];
}
