// Passkeys in real Chromium with its virtual authenticator (DevTools' WebAuthn
// domain): add one on the account security page after a password sign-in, rename it,
// sign out, sign back in with nothing but the passkey, and use it as the second step
// of a password sign-in. Console errors fail the run.
//
// node e2e/passkey.mjs <panel url, on a host name> <username> <password>

import { launch, submitSignIn, watch } from './chromium.mjs';

const [panel, username, password] = process.argv.slice(2);
const browser = await launch();
const problems = [];

try {
  const context = await browser.newContext();
  const page = await context.newPage();
  watch(page, problems);
  const devtools = await context.newCDPSession(page);
  await devtools.send('WebAuthn.enable');
  await devtools.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  await page.goto(`${panel}/sign-in?redirect=/account/security`);
  await submitSignIn(page, username, password);
  await page.getByRole('heading', { name: 'Passkeys and security keys' }).waitFor();

  await page.getByLabel(/^Passkey name/).fill('laptop');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  const row = page.getByLabel('Name of passkey laptop');
  await row.waitFor();
  await row.fill('work laptop');
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByLabel('Name of passkey work laptop').waitFor();

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL(/\/sign-in/);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.waitForURL(`${panel}/`);
  await page.getByRole('heading', { name: 'Your servers' }).waitFor();

  // With a passkey, a password alone is not enough: the key is the second step.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL(/\/sign-in/);
  await submitSignIn(page, username, password);
  await page.waitForURL(/\/sign-in\/second-factor/);
  await page.getByRole('button', { name: 'Use a security key or passkey' }).click();
  await page.getByRole('heading', { name: 'Your servers' }).waitFor();
} catch (error) {
  const alerts = await browser
    .contexts()[0]
    ?.pages()[0]
    ?.locator('[role=alert]')
    .allTextContents()
    .catch(() => []);
  console.error(`${error}\nalerts on the page: ${JSON.stringify(alerts)}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
if (process.exitCode === 1) process.exit(1);
console.log('ok');
