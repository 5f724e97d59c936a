// The panel in real Chromium against a real panel, wings and podman, as an
// administrator meets it: the overview; the node's health and wings configuration; an
// allocation added; the fixture egg imported by pasting it; a server created from it
// with the form (a variable breaking the egg's rules is shown at its field), whose
// console then shows the install output as it runs; the server started from the Start
// button, its startup line, a typed command's answer (and the up arrow bringing it
// back); a startup variable refused at its field, then saved; a subuser added with the
// grouped permission picker; a role and a user with it; a plugin package installed
// through its consent screen with one capability unticked. Screenshots of the pages,
// light and dark and at phone width, go to <screenshot dir>.
//
// node e2e/server.mjs <panel url> <username> <password> <egg file> <port> <plugin package> <subuser email> <subuser password> <screenshot dir>

import { mkdirSync, readFileSync } from 'node:fs';

import { finish, launch, screenshotsTo, signIn, watch } from './chromium.mjs';

const [panel, username, password, eggFile, port, pluginPackage, subuserEmail, subuserPassword, shots] =
  process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await launch();
const screenshots = screenshotsTo(shots);
const problems = [];

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  watch(page, problems);

  await signIn(page, panel, username, password);

  const nav = page.getByRole('navigation');

  // The overview counts what there is.
  await nav.getByRole('link', { name: 'Overview' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await screenshots(page, 'admin-overview');

  // The node answers; its wings configuration is there to copy; an allocation is added.
  await nav.getByRole('link', { name: 'Nodes' }).click();
  await page.getByText(/Online · \d+ ms/).waitFor({ timeout: 30_000 });
  await screenshots(page, 'admin-nodes');
  await page.getByRole('link', { name: 'local' }).click();
  await page.getByRole('button', { name: 'Show the configuration' }).click();
  await page.getByTestId('wings-configuration').getByText(/token:/).waitFor();
  await page.getByLabel('IP address').fill('127.0.0.1');
  await page.getByLabel('Ports').fill(port);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('cell', { name: `127.0.0.1:${port}` }).waitFor();
  await screenshots(page, 'admin-node');

  // The egg is imported by pasting it, and its variables are there to see.
  await nav.getByRole('link', { name: 'Eggs' }).click();
  await page.getByRole('button', { name: 'Import an egg' }).click();
  let dialog = page.getByRole('dialog');
  await dialog.getByLabel('Nest').fill('Tests');
  await dialog.getByLabel('Egg', { exact: true }).fill(readFileSync(eggFile, 'utf8'));
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  await dialog.getByText('Fixture Game was created in Tests.').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Variables' }).click();
  await page.getByRole('dialog').getByText('required|string|max:20').waitFor();
  await screenshots(page, 'admin-egg-variables');
  await page.keyboard.press('Escape');

  // A server from the form: the egg's variables are fields, checked by its rules.
  await nav.getByRole('link', { name: 'Servers' }).nth(1).click();
  await page.getByRole('link', { name: 'Create a server' }).click();
  await page.getByLabel(/^Name/).fill('Browser game');
  await page.getByLabel('Owner').fill(username);
  await page.getByRole('combobox', { name: /^Node/ }).click();
  await page.getByRole('option', { name: 'local' }).click();
  await page.getByRole('combobox', { name: /^Address/ }).click();
  await page.getByRole('option', { name: `127.0.0.1:${port}` }).click();
  await page.getByRole('combobox', { name: /^Egg/ }).click();
  await page.getByRole('option', { name: 'Fixture Game' }).click();
  await page.getByLabel('Memory (MiB, 0 for no limit)').fill('64');
  await page.getByLabel('Disk (MiB, 0 for no limit)').fill('100');
  await page.getByLabel('Start it once installed').uncheck();
  const greetingAtCreate = page.getByLabel('Greeting (GREETING)');
  await greetingAtCreate.fill('x'.repeat(30));
  await page.getByRole('button', { name: 'Create and install' }).click();
  await page.getByText('GREETING may not be greater than 20 characters').waitFor();
  await screenshots(page, 'admin-create-server');
  await greetingAtCreate.fill('hi');
  await page.getByRole('button', { name: 'Create and install' }).click();
  await page.waitForURL(/\/servers\/[0-9a-f]{8}$/);
  const server = new URL(page.url()).pathname.split('/')[2];

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
  dialog = page.getByRole('dialog');
  await dialog.getByLabel('Email address').fill(subuserEmail);
  await dialog.getByRole('button', { name: 'Console' }).click();
  await dialog.getByLabel('open the console').check();
  await dialog.getByRole('button', { name: 'Control' }).click();
  await dialog.getByLabel('send console commands').check();
  await screenshots(page, 'users-picker');
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByTestId('subuser').getByText('2 permissions').waitFor();

  // From the subuser's seat: the console to watch and type into, and nothing more.
  const helper = await (await browser.newContext()).newPage();
  watch(helper, problems);
  await signIn(helper, panel, subuserEmail, subuserPassword);
  await helper.getByTestId('server-card').filter({ hasText: 'Browser game' }).click();
  await helper.getByTestId('console').getByText('you said: ping from chromium').waitFor({ timeout: 30_000 });
  await helper.getByLabel('Console command').waitFor();
  const helperTabs = await helper.getByRole('tab').allTextContents();
  if (helperTabs.join(',') !== 'Console,Settings') throw new Error(`a subuser sees the tabs ${helperTabs.join(', ')}`);
  for (const power of ['Start', 'Restart', 'Stop']) {
    if ((await helper.getByRole('button', { name: power, exact: true }).count()) !== 0) {
      throw new Error(`a subuser without control.${power.toLowerCase()} sees ${power}`);
    }
  }
  if ((await helper.getByText('Administration').count()) !== 0) throw new Error('a subuser sees the admin pages');
  await helper.screenshot({ path: `${shots}/subuser-console.png`, fullPage: true });
  await helper.close();

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

  // A role for support staff, and a user holding it.
  await nav.getByRole('link', { name: 'Roles' }).click();
  await page.getByRole('button', { name: 'Add a role' }).click();
  dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name').fill('Support');
  await dialog.getByLabel('see every server').check();
  await dialog.getByLabel('see users').check();
  await dialog.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Support', { exact: true }).waitFor();
  await screenshots(page, 'admin-roles');
  await nav.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('button', { name: 'Add a user' }).click();
  dialog = page.getByRole('dialog');
  await dialog.getByLabel('Username').fill('staffer');
  await dialog.getByLabel('E-mail').fill('staffer@example.com');
  await dialog.getByRole('combobox', { name: /^Role/ }).click();
  await page.getByRole('option', { name: 'Support' }).click();
  await dialog.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('cell', { name: /staffer/ }).waitFor();
  await screenshots(page, 'admin-users');

  // A plugin package: installed, then enabled on its consent screen without `identity`.
  await nav.getByRole('link', { name: 'Plugins' }).click();
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Install a package' }).click();
  await (await chooser).setFiles(pluginPackage);
  dialog = page.getByRole('dialog');
  await dialog.getByTestId('consent').getByText('create and use its own tables').waitFor();
  await dialog.getByLabel('sign anyone in, and issue and revoke anyone\'s API keys').uncheck();
  await screenshots(page, 'admin-plugin-consent');
  await dialog.getByRole('button', { name: 'Enable', exact: true }).click();
  await page.getByTestId('plugin').filter({ hasText: 'hello-wasm' }).getByText('enabled', { exact: true }).waitFor();
  await page.getByTestId('plugin').filter({ hasText: 'hello-wasm' }).getByRole('button', { name: 'Settings' }).click();
  dialog = page.getByRole('dialog');
  await dialog.getByLabel('Greeting', { exact: true }).fill('Ahoy');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  await screenshots(page, 'admin-plugins');

  // What the plugin adds appears without a frontend build, each in a sandboxed frame:
  // a dashboard widget, a server tab, an admin page.
  await nav.getByRole('link', { name: 'Servers' }).first().click();
  await page.frameLocator('iframe[title="Greetings"]').getByTestId('hello-widget').getByText(/^Ahoy!/).waitFor();
  await screenshots(page, 'dashboard-with-widget');
  await page.goto(`${panel}/servers/${server}`);
  await page.getByRole('tab', { name: 'Wave' }).click();
  const waveTab = page.frameLocator('iframe[title="Wave"]');
  await waveTab.getByText('Wave at the players of Browser game.').waitFor();
  await waveTab.getByRole('button', { name: 'Wave' }).click();
  await waveTab.getByTestId('waved').getByText('Waved at Browser game.').waitFor();
  await screenshots(page, 'server-plugin-tab');
  await nav.getByRole('link', { name: 'Greetings kept' }).click();
  await page.frameLocator('iframe[title="Greetings kept"]').getByTestId('greetings-total').getByText(/^\d+ greetings? kept\.$/).waitFor();

  // Disabled, and its widget goes.
  await nav.getByRole('link', { name: 'Plugins' }).click();
  await page.getByTestId('plugin').filter({ hasText: 'hello-wasm' }).getByRole('button', { name: 'Disable' }).click();
  await page.getByTestId('plugin').filter({ hasText: 'hello-wasm' }).getByText('disabled', { exact: true }).waitFor();
  await nav.getByRole('link', { name: 'Servers' }).first().click();
  await page.getByRole('heading', { name: 'Your servers' }).waitFor();
  await page.getByTestId('server-card').first().waitFor();
  if ((await page.locator('iframe[title="Greetings"]').count()) !== 0) throw new Error('the disabled plugin\'s widget is still there');
  if ((await nav.getByRole('link', { name: 'Greetings kept' }).count()) !== 0) throw new Error('the disabled plugin\'s admin page is still listed');

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

// The refused variables are answered 400, which Chromium reports on the console: expected.
finish(problems, ['status of 400']);
