// Which web addresses the app hands to the user's browser: https only, and only the documentation
// hosts the app links to. Anything else a page asks to open (a compromised renderer, a link in a
// tool's output) is dropped. No Electron import, so it is checked in plain tests.
export const EXTERNAL_HOSTS: readonly string[] = ['www.analog.com', 'analog.com', 'github.com'];

export function isAllowedExternalUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === 'https:' && u.username === '' && u.password === '' && u.port === '' && EXTERNAL_HOSTS.includes(u.hostname);
}
