// The web panel in real Chromium (playwright-core driving /usr/bin/chromium): a person
// opens a page while signed out, signs in with a password, lands where they were
// going, and adds an SSH key on the account security page. A wrong password reads the
// one message every refused sign-in gets. Any console error (a script failing, a
// Content-Security-Policy violation) fails the run.
//
// node e2e/sign-in.mjs <panel url> <username> <password> <ssh public key>

import { finish, launch, submitSignIn, watch } from './chromium.mjs';

const [panel, username, password, publicKey] = process.argv.slice(2);
const browser = await launch();
const problems = [];

try {
  const context = await browser.newContext();
  const page = await context.newPage();
  watch(page, problems);

  await page.goto(`${panel}/account/security`);
  await page.waitForURL(/\/sign-in\?redirect=/);
  await submitSignIn(page, username, password);
  await page.waitForURL(`${panel}/account/security`);
  await page.getByRole('heading', { name: 'Account security' }).waitFor();

  await page.getByLabel(/^Name/).fill('laptop');
  await page.getByLabel('Public key').fill(publicKey);
  await page.getByRole('button', { name: 'Add key' }).click();
  await page.getByText('laptop', { exact: true }).waitFor();
  await page.getByText('This browser').waitFor();

  const stranger = await (await browser.newContext()).newPage();
  watch(stranger, problems);
  await stranger.goto(`${panel}/sign-in`);
  await submitSignIn(stranger, username, `${password}-wrong`);
  await stranger.getByRole('alert').getByText('the username or password is not right').waitFor();
} finally {
  await browser.close();
}

// A wrong password is answered 401, which Chromium reports on the console: expected.
finish(problems, ['401']);
