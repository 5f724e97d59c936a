// A server's pages in real Chromium against a real panel, wings and podman: the
// dashboard shows the server; its console shows the install output as it runs, then
// the server starts from the Start button, its startup line appears, a typed command
// gets its answer (and comes back with the up arrow); a variable that breaks the egg's
// rules shows the rule at the field, a good one is saved; a subuser is added with
// permissions ticked in the picker. Screenshots of the pages, light and dark and at
// phone width, go to <screenshot dir>.
//
// node e2e/server.mjs <panel url> <username> <password> <server short id> <subuser email> <screenshot dir>

import { mkdirSync } from 'node:fs';

import { launch, watch } from './chromium.mjs';

const [panel, username, password, server, subuserEmail, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await launch();
const problems = [];

async function screenshots(page, name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: `${shots}/${name}-${scheme}.png`, fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  watch(page, problems);

  await page.goto(`${panel}/sign-in`);
  await page.getByLabel('Username or e-mail').fill(username);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Your servers' }).waitFor();

  // The dashboard lists the server; its card leads to the console.
  const card = page.getByTestId('server-card').filter({ hasText: 'Browser game' });
  await card.waitFor();
  await card.click();
  await page.waitForURL(`${panel}/servers/${server}`);
  const consoleText = page.getByTestId('console');

  // The install runs for a while and prints as it goes; the console shows it live.
  await consoleText.getByText(/install step \d+/).first().waitFor({ timeout: 60_000 });
  await screenshots(page, 'console-installing');
  await consoleText.getByText('install finished').waitFor({ timeout: 90_000 });

  // Start it: the startup line shows, the state badge follows.
  const start = page.getByRole('button', { name: 'Start', exact: true, disabled: false });
  await start.waitFor({ timeout: 60_000 });
  await start.click();
  await consoleText.getByText('Starting with greeting hi').waitFor({ timeout: 60_000 });
  await page.getByTestId('power-state').getByText('Running').waitFor({ timeout: 30_000 });

  const input = page.getByLabel('Console command');
  await input.fill('ping from chromium');
  await input.press('Enter');
  await consoleText.getByText('you said: ping from chromium').waitFor({ timeout: 30_000 });
  // The line is cleared and comes back with the up arrow.
  if ((await input.inputValue()) !== '') throw new Error('the command line was not cleared');
  await input.press('ArrowUp');
  if ((await input.inputValue()) !== 'ping from chromium') throw new Error('the up arrow did not recall the command');
  await screenshots(page, 'console-running');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${shots}/console-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 860 });

  // Startup: a value the egg's rules refuse shows the rule at the field.
  await page.getByRole('tab', { name: 'Startup' }).click();
  await page.waitForURL(`${panel}/servers/${server}/startup`);
  const greeting = page.getByLabel(/Greeting/);
  await greeting.fill('x'.repeat(30));
  await greeting.press('Enter');
  const fieldError = page.locator('.mantine-TextInput-root', { has: greeting }).getByText(/may not be greater than 20 characters/);
  await fieldError.waitFor();
  await screenshots(page, 'startup-error');
  await greeting.fill('howdy');
  await greeting.press('Enter');
  await page.getByRole('status').getByText('Saved').waitFor();
  await fieldError.waitFor({ state: 'detached' });

  // Users: add a subuser with two permissions from the grouped picker.
  await page.getByRole('tab', { name: 'Users' }).click();
  await page.getByText('No subusers').waitFor();
  await page.getByRole('button', { name: 'Add a user' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Email address').fill(subuserEmail);
  await dialog.getByRole('button', { name: 'Console' }).click();
  await dialog.getByLabel('open the console').check();
  await dialog.getByRole('button', { name: 'Control' }).click();
  await dialog.getByLabel('send console commands').check();
  await screenshots(page, 'users-picker');
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByTestId('subuser').getByText('2 permissions').waitFor();

  // The remaining pages render, for the record.
  for (const [tab, name] of [
    ['Network', 'network'],
    ['Settings', 'settings'],
    ['Activity', 'activity'],
  ]) {
    await page.getByRole('tab', { name: tab }).click();
    await page.waitForURL(`${panel}/servers/${server}/${name}`);
    await page.waitForLoadState('networkidle');
    await screenshots(page, name);
  }
  await page.getByText('startup edit', { exact: true }).first().waitFor();

  await page.goto(`${panel}/`);
  await page.getByTestId('server-card').getByText('Running').waitFor({ timeout: 30_000 });
  await screenshots(page, 'dashboard');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${shots}/dashboard-phone.png`, fullPage: true });
} catch (error) {
  // What the page said helps more than the timeout alone.
  console.error(problems.join('\n'));
  throw error;
} finally {
  await browser.close();
}

// The refused variable is answered 400, which Chromium reports on the console: expected.
const unexpected = problems.filter((problem) => !problem.includes('status of 400'));
if (unexpected.length > 0) {
  console.error(unexpected.join('\n'));
  process.exit(1);
}
console.log('ok');
