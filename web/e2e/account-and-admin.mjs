// The account security and admin pages in real Chromium: an administrator adds a
// GitHub sign-in provider and sees the redirect URI to register, then sets up an
// authenticator app (the code computed here from the key the page shows, RFC 6238)
// and gets recovery codes. Console errors fail the run.
//
// node e2e/account-and-admin.mjs <panel url> <admin username> <password>

import { createHmac } from 'node:crypto';
import { launch, signIn, watch } from './chromium.mjs';

const [panel, username, password] = process.argv.slice(2);

/** The current six-digit code for a base32 key. */
function totp(base32) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const character of base32.replace(/=+$/, '').toUpperCase()) {
    bits += alphabet.indexOf(character).toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const digest = createHmac('sha1', key).update(counter).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const value = (digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, '0');
}

const browser = await launch();
const problems = [];
try {
  const page = await (await browser.newContext()).newPage();
  watch(page, problems);

  await signIn(page, panel, username, password);

  await page.getByRole('link', { name: 'Sign-in providers' }).click();
  await page.getByText('No providers yet').waitFor();
  await page.getByRole('combobox', { name: /^Kind/ }).click();
  await page.getByRole('option', { name: 'GitHub' }).click();
  await page.getByLabel(/^Id/).fill('gh');
  await page.getByLabel(/^Button label/).fill('GitHub');
  await page.getByLabel(/^Client id/).fill('Iv1.0123456789');
  await page.getByLabel(/^Client secret/).fill('not-shown-again');
  await page.getByRole('button', { name: 'Add provider' }).click();
  await page.getByText(`${panel}/api/auth/core-auth/oauth/gh/callback`).waitFor();

  await page.getByRole('link', { name: 'Account security' }).click();
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  const secret = (await page.locator('pre').first().textContent()).trim();
  await page.getByLabel(/^Code from the app/).fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.getByText(/Your recovery codes/).waitFor();
  await page.getByText('On', { exact: true }).waitFor();
} catch (error) {
  console.error(String(error));
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
