// First start in real Chromium: the link from the panel's log opens the web panel's
// setup page; a mismatched repeat is caught at the field; the first administrator is
// created and lands signed in on their servers, with the admin pages in reach.
//
// node e2e/setup.mjs <setup link> <screenshot dir>

import { mkdirSync } from 'node:fs';

import { finish, launch, watch } from './chromium.mjs';

const [link, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await launch();
const problems = [];

try {
  const page = await (await browser.newContext()).newPage();
  watch(page, problems);
  await page.goto(link);
  await page.getByRole('heading', { name: 'Create the first administrator' }).waitFor();
  await page.getByLabel(/^Username/).fill('root');
  await page.getByLabel(/^E-mail/).fill('root@example.com');
  await page.getByLabel(/^Password/, { exact: false }).first().fill('correct horse battery');
  await page.getByLabel(/^Password again/).fill('correct horse battery!');
  await page.getByText('The two passwords differ.').waitFor();
  await page.screenshot({ path: `${shots}/setup.png`, fullPage: true });
  await page.getByLabel(/^Password again/).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await page.getByRole('heading', { name: 'Your servers' }).waitFor();
  await page.getByRole('navigation').getByRole('link', { name: 'Nodes' }).waitFor();
} catch (error) {
  console.error(problems.join('\n'));
  throw error;
} finally {
  await browser.close();
}

finish(problems);
