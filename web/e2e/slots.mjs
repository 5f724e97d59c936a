// Plugin UI slots in real Chromium: a trusted plugin's card renders in the panel's page
// (sharing its React through the import map); a plugin whose module is broken shows a
// small error card where its widget would be, and the rest of the page keeps working.
//
// node e2e/slots.mjs <panel url> <username> <password> <screenshot dir>

import { mkdirSync } from 'node:fs';

import { finish, launch, signIn, watch } from './chromium.mjs';

const [panel, username, password, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await launch();
const problems = [];

try {
  const page = await (await browser.newContext()).newPage();
  watch(page, problems);
  await signIn(page, panel, username, password);

  // The broken widget is an error card; the page around it works.
  const broken = page.locator('[data-plugin="broken-ui"]').getByTestId('plugin-error');
  await broken.getByText('broken-ui could not show this').waitFor();
  await page.getByText('No servers yet').waitFor();
  await page.getByRole('link', { name: 'Account security' }).click();
  await page.getByRole('heading', { name: 'Account security' }).waitFor();

  // The trusted native card is part of the page itself: no frame.
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.getByTestId('native-card').getByText(/^Served \d+ requests/).waitFor();
  if ((await page.locator('[data-plugin="hello-native"] iframe').count()) !== 0) throw new Error('the trusted card is in a frame');
  await page.goto(`${panel}/`);
  await broken.waitFor();
  await page.screenshot({ path: `${shots}/broken-widget.png`, fullPage: true });
} catch (error) {
  console.error(problems.join('\n'));
  throw error;
} finally {
  await browser.close();
}

// The broken module's own error reaches the console; nothing else may.
finish(problems, ['broken on purpose']);
