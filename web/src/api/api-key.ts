const STORAGE_KEY = 'mediago.apiKey';

/** The API key the user entered, kept in this browser's storage (the service never sends it back). */
export const apiKey = {
  get(): string | null {
    try {
      return localStorage.getItem(STORAGE_KEY);
    } catch {
      return null;
    }
  },
  set(value: string | null): void {
    try {
      if (value) localStorage.setItem(STORAGE_KEY, value);
      else localStorage.removeItem(STORAGE_KEY);
    } catch {
      // storage disabled: the key lasts for this page only
    }
  },
};
