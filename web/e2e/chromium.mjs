// Chromium as every browser test launches it (playwright-core cannot download one
// here), and a record of what goes wrong on a page: console errors (a
// Content-Security-Policy violation included) and uncaught exceptions.

import { chromium } from 'playwright-core';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Adds what goes wrong on `page` to `problems`. */
export function watch(page, problems) {
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
}

/** `screenshots(page, name)`: the page, light and dark, as `<dir>/<name>-<scheme>.png`. */
export function screenshotsTo(dir) {
  return async (page, name) => {
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      // Colours change with a short transition; the picture waits for it to end.
      await page.waitForTimeout(300);
      await page.screenshot({ path: `${dir}/${name}-${scheme}.png`, fullPage: true });
    }
    await page.emulateMedia({ colorScheme: 'light' });
  };
}

/** Fills in the sign-in form `page` shows, and sends it. */
export async function submitSignIn(page, login, password) {
  await page.getByLabel('Username or e-mail').fill(login);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Signs in on the panel's sign-in page and waits for the dashboard. */
export async function signIn(page, panel, login, password) {
  await page.goto(`${panel}/sign-in`);
  await submitSignIn(page, login, password);
  await page.getByRole('heading', { name: 'Your servers' }).waitFor();
}

/** Ends a run: what went wrong on its pages fails it, but for problems that contain one of `expected`. */
export function finish(problems, expected = []) {
  const unexpected = problems.filter((problem) => !expected.some((text) => problem.includes(text)));
  if (unexpected.length > 0) {
    console.error(unexpected.join('\n'));
    process.exit(1);
  }
  console.log('ok');
}
