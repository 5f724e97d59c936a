// The Files tab (the core-files plugin's page) in real Chromium against a real panel,
// wings and podman: a folder of thousands of entries listed whole but drawn a screenful
// at a time; files picked with their boxes and packed; a file dropped onto the list and
// uploaded with progress, and a folder picked whole; a rename and a download from the context menu; a file edited
// in CodeMirror and saved with Ctrl+S, leaving asked about while unsaved, its history
// beside it, a save's changes shown, an old revision restored; a draft offered back; an
// archive browsed, an entry read and a folder of it extracted; a content search whose
// hit opens the editor; a subuser who may only read sees no way to change anything.
// Screenshots, light and dark and at phone width, go to <shots>.
//
// node e2e/files.mjs <panel url> <username> <password> <server short id> <reader> <reader password> <folder to upload> <screenshot dir>

import { mkdirSync } from 'node:fs';

import { finish, launch, screenshotsTo, signIn, watch } from './chromium.mjs';

const [panel, username, password, server, reader, readerPassword, folder, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await launch();
const screenshots = screenshotsTo(shots);
const problems = [];

function check(condition, message) {
  if (!condition) throw new Error(message);
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  watch(page, problems);
  await signIn(page, panel, username, password);

  // The tab is the plugin's, in the page itself (it is trusted: no frame).
  // The tab sits where Pterodactyl users look for it: right after Console.
  await page.goto(`${panel}/servers/${server}`);
  await page.getByRole('tab', { name: 'Files' }).waitFor();
  const tabs = await page.getByRole('tab').allInnerTexts();
  check(tabs[0] === 'Console' && tabs[1] === 'Files', `the tabs are ${tabs.join(', ')}`);
  await page.getByRole('tab', { name: 'Files' }).click();
  const files = page.getByTestId('core-files');
  const list = files.getByRole('grid', { name: 'Files in /' });
  await list.getByRole('row').filter({ hasText: 'a.txt' }).waitFor();
  check((await page.locator('[data-plugin="core-files"] iframe').count()) === 0, 'the Files tab is in a frame');
  const row = (name) => files.locator(`[role="row"][data-name="${name}"]`);

  // A folder of 5,000 entries: all listed, a screenful drawn.
  await row('many').getByText('many', { exact: true }).click();
  await files.getByText('5000 items').waitFor();
  const drawn = await files.getByRole('grid', { name: 'Files in /many' }).getByRole('row').count();
  check(drawn > 5 && drawn < 120, `the long folder drew ${drawn} rows, not a screenful`);
  await files.getByRole('grid', { name: 'Files in /many' }).evaluate((grid) => {
    grid.scrollTop = grid.scrollHeight;
  });
  await row('file-04999.txt').waitFor();
  await files.getByLabel('Filter this folder').fill('04321');
  await files.getByText('1 of 5000 items').waitFor();
  await row('file-04321.txt').waitFor();
  await screenshots(page, 'files-long-folder');
  await files.getByRole('navigation', { name: 'Folder' }).getByRole('link', { name: 'home' }).click();
  await row('a.txt').waitFor();

  // Two files picked with their boxes and packed into one archive.
  await files.getByLabel('Select a.txt').check();
  await files.getByLabel('Select b.txt').check();
  await files.getByTestId('selection-bar').getByText('2 selected').waitFor();
  await files.getByTestId('selection-bar').getByRole('button', { name: 'Compress' }).click();
  await files.getByText(/^Packed into archive-.*\.tar\.gz\.$/).waitFor();
  await files.locator('[role="row"][data-name^="archive-"]').first().waitFor();

  // A file dropped onto the list is uploaded to the node, its progress shown.
  // The function runs in the page, where DataTransfer is.
  const dropped = await page.evaluateHandle(() => {
    const transfer = new globalThis.DataTransfer();
    transfer.items.add(new File(['uploaded by dropping\n'], 'dropped.txt', { type: 'text/plain' }));
    return transfer;
  });
  await list.dispatchEvent('dragover', { dataTransfer: dropped });
  await list.dispatchEvent('drop', { dataTransfer: dropped });
  await files.getByTestId('uploads').getByText(/^Uploaded/).waitFor();
  await row('dropped.txt').waitFor();

  // A whole folder from the folder picker lands with everything inside it.
  await files.getByTestId('upload-folder-input').setInputFiles(folder);
  await row('pack').getByText('pack', { exact: true }).click();
  await row('config').waitFor();
  await row('readme.txt').waitFor();
  await files.getByRole('navigation', { name: 'Folder' }).getByRole('link', { name: 'home' }).click();

  // Renamed from its context menu, then downloaded from it.
  await row('dropped.txt').click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Rename' }).click();
  const rename = page.getByRole('dialog', { name: 'Rename dropped.txt' });
  await rename.getByLabel('New name').fill('renamed.txt');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await row('renamed.txt').waitFor();
  await files.getByRole('button', { name: 'Actions for renamed.txt' }).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: 'Download' }).click()]);
  check(download.suggestedFilename() === 'renamed.txt', `the download is named ${download.suggestedFilename()}`);
  await screenshots(page, 'files-list');

  // Edited in CodeMirror: leaving unsaved is asked about; Ctrl+S saves.
  await row('config').getByText('config', { exact: true }).click();
  await row('server.properties').getByText('server.properties').click();
  const editor = files.locator('.cm-content');
  await editor.getByText('max-players=10').waitFor();
  await editor.click();
  await page.keyboard.press('ControlOrMeta+End');
  await page.keyboard.type('\nmotd=typed in chromium');
  await files.getByTestId('editor-status').getByText('Unsaved changes').waitFor();
  await files.getByRole('button', { name: 'Close' }).click();
  const leave = page.getByRole('dialog', { name: 'Leave without saving?' });
  await leave.waitFor();
  await leave.getByRole('button', { name: 'Cancel' }).click();
  await editor.click();
  await page.keyboard.press('ControlOrMeta+s');
  await files.getByTestId('editor-status').getByText(/^Saved at/).waitFor();
  const history = files.getByRole('region', { name: 'History' });
  await history.getByTestId('revision').nth(1).waitFor();
  await history.getByTestId('revision').first().getByText('web editor').waitFor();
  await screenshots(page, 'files-editor');

  // The save's changes, then the first revision put back.
  await history.getByTestId('revision').first().getByRole('button', { name: 'Changes' }).click();
  const diff = page.getByTestId('diff');
  await diff.locator('tr[data-kind="added"]').getByText('motd=typed in chromium').waitFor();
  await screenshots(page, 'files-diff');
  await page.keyboard.press('Escape');
  await history.getByTestId('revision').nth(1).getByRole('button', { name: 'Restore' }).click();
  await page.getByRole('dialog', { name: 'Restore revision 1?' }).getByRole('button', { name: 'Restore' }).click();
  await files.getByText('Restored revision 1.').waitFor();
  await history.getByTestId('revision').nth(2).waitFor();
  await history.getByTestId('revision').first().getByText('restore').waitFor();
  await editor.getByText('max-players=10').waitFor();
  check(!(await editor.innerText()).includes('typed in chromium'), 'the restore left the typed line in the editor');

  // Changes left unsaved are kept as a draft and offered back.
  await editor.click();
  await page.keyboard.press('ControlOrMeta+End');
  await page.keyboard.type('\n# a draft');
  await files.getByTestId('editor-status').getByText('Unsaved changes').waitFor();
  await files.getByRole('navigation', { name: 'Folder' }).getByRole('link', { name: 'config' }).click();
  await page.getByRole('dialog', { name: 'Leave without saving?' }).getByRole('button', { name: 'Leave' }).click();
  await row('server.properties').getByText('server.properties').click();
  await files.getByTestId('draft-notice').getByRole('button', { name: 'Restore them' }).click();
  await editor.getByText('# a draft').waitFor();
  await files.getByTestId('editor-status').getByText('Unsaved changes').waitFor();
  await files.getByTestId('draft-notice').waitFor({ state: 'detached' });
  page.once('dialog', (dialog) => void dialog.accept());

  // Inside an archive: a folder walked, an entry read, that folder extracted.
  await page.goto(`${panel}/servers/${server}/p/core-files/files#archive=%2Fbundle.zip`);
  const inside = files.getByRole('grid', { name: 'Inside bundle.zip' });
  await inside.locator('[data-name="readme.txt"]').getByText('readme.txt').click();
  await page.getByTestId('archive-entry').getByText('Read me first').waitFor();
  await page.keyboard.press('Escape');
  await inside.locator('[data-name="docs"]').getByText('docs').click();
  await inside.locator('[data-name="guide.txt"]').waitFor();
  await screenshots(page, 'files-archive');
  await files.getByRole('button', { name: 'bundle.zip' }).click();
  await files.getByLabel('Select docs').check();
  await files.getByRole('button', { name: 'Extract selected (1)' }).click();
  const extract = page.getByRole('dialog', { name: 'Extract docs' });
  await extract.getByLabel('Into the folder').fill('/extracted');
  await extract.getByRole('button', { name: 'Extract' }).click();
  await files.getByText('Extracted into /extracted.').waitFor();

  // A content search streams its hit; the hit opens the file.
  await page.goto(`${panel}/servers/${server}/p/core-files/files#dir=%2F`);
  await files.getByRole('button', { name: 'Search' }).click();
  await files.getByText('Content', { exact: true }).click();
  await files.getByLabel('Look for').fill('max-players');
  await files.getByRole('button', { name: 'Search', exact: true }).click();
  const summary = files.getByTestId('search-summary');
  await summary.getByText(/found among/).waitFor();
  const said = await summary.innerText();
  check(/^1 found among [\d,]+ entries/.test(said), `the search said: ${said}`);
  await screenshots(page, 'files-search');
  await files.getByRole('grid', { name: 'Search results' }).getByText('/config/server.properties').click();
  await files.locator('.cm-content').getByText('max-players=10').waitFor();

  // A subuser who may only read: no way to add, change or delete is offered.
  const readerPage = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  watch(readerPage, problems);
  await signIn(readerPage, panel, reader, readerPassword);
  await readerPage.goto(`${panel}/servers/${server}/p/core-files/files#dir=%2Fconfig`);
  const readerFiles = readerPage.getByTestId('core-files');
  await readerFiles.locator('[role="row"][data-name="server.properties"]').waitFor();
  for (const name of ['Upload', 'New file', 'New folder']) {
    check((await readerFiles.getByRole('button', { name, exact: true }).count()) === 0, `the reader is offered ${name}`);
  }
  await readerFiles.getByRole('button', { name: 'Actions for server.properties' }).click();
  await readerPage.getByRole('menuitem', { name: 'Edit' }).waitFor();
  const offered = await readerPage.getByRole('menuitem').allInnerTexts();
  check(!offered.some((item) => ['Rename', 'Delete', 'Move', 'Copy'].includes(item)), `the reader is offered ${offered.join(', ')}`);
  await readerPage.getByRole('menuitem', { name: 'Edit' }).click();
  await readerFiles.getByTestId('editor-status').getByText('Read only').waitFor();
  await readerFiles.locator('.cm-content').getByText('max-players=10').waitFor();
  await readerFiles.getByRole('region', { name: 'History' }).getByTestId('revision').first().waitFor();
  check((await readerFiles.getByRole('button', { name: 'Save' }).count()) === 0, 'the reader is offered Save');
  check((await readerFiles.getByRole('button', { name: 'Restore' }).count()) === 0, 'the reader is offered Restore');
  await screenshots(readerPage, 'files-reader');

  // At phone width the list still fits.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${panel}/servers/${server}/p/core-files/files#dir=%2F`);
  await row('renamed.txt').waitFor();
  await screenshots(page, 'files-phone');
} catch (error) {
  console.error(problems.join('\n'));
  throw error;
} finally {
  await browser.close();
}

finish(problems);
