// Drives the review page in headless Chromium: worklist, request a draft and watch it stream,
// see a hint beside the text and abnormal labs, switch to Traditional Chinese, edit, sign.
// Usage: node review_page.mjs URL TOKEN SCREENSHOT_DIR ENCOUNTER OTHER_TOKEN
//   ENCOUNTER: one with an abnormal lab; OTHER_TOKEN: another user's, for a link that would
//   switch users.
// Prints "ok: ..." / "FAIL: ..." lines; exits 1 on the first failure.
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';

const require = createRequire(new URL('../tools/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const [url, token, shots, encounter, otherToken] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let failed = false;
let page = null;
const ok = (m) => console.log(`ok: ${m}`);
const fail = (m) => { console.log(`FAIL: ${m}`); failed = true; };
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1440, height: 1000 } });
  page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.accept(); });
  page.setDefaultTimeout(60000);

  await page.goto(`${url}/app/#token=${token}`);
  await page.waitForSelector('#worklist-view:not([hidden])');
  (await page.evaluate(() => location.hash === '' && sessionStorage.getItem('medscribe.token')))
    ? ok('token taken from the URL fragment and removed from the address bar')
    : fail('token handling');
  await page.screenshot({ path: `${shots}/1-worklist.png`, fullPage: true });
  ok('worklist shown');
  (await page.textContent('#who')).includes('Lee^Anna (radiologist')
    ? ok('the page says who is signed in') : fail(`who: ${await page.textContent('#who')}`);

  // Request a draft; record the progress stages as they appear.
  await page.evaluate(() => {
    window.__stages = [];
    new MutationObserver(() => {
      for (const s of document.querySelectorAll('#progress .stage')) {
        if (!window.__stages.includes(s.dataset.stage)) window.__stages.push(s.dataset.stage);
      }
    }).observe(document.getElementById('progress'), { childList: true, subtree: true });
  });
  await page.fill('#new-encounter', encounter);
  await page.click('#new-submit');
  await page.waitForSelector('#draft-view:not([hidden])');
  await page.waitForFunction(() => location.hash.startsWith('#draft='));
  const stages = await page.evaluate(() => window.__stages);
  ['fetching', 'drafting', 'checking', 'stored'].every((s) => stages.includes(s))
    ? ok(`draft streamed in: ${stages.join(' → ')}`)
    : fail(`stages seen: ${stages.join(', ')}`);
  const text = await page.inputValue('#editor');
  const pieces = Number(await page.getAttribute('#progress', 'data-pieces'));
  text.length > 0 && pieces > 1 ? ok(`draft text streamed in ${pieces} pieces (${text.length} characters)`)
                                : fail(`draft: ${text.length} characters in ${pieces} pieces`);
  const abnormal = await page.locator('#labs td.abnormal').count();
  const labs = await page.locator('#labs tr').count();
  labs > 0 && abnormal > 0 ? ok(`${labs} labs shown, ${abnormal} highlighted as abnormal`)
                           : fail(`${labs} labs, ${abnormal} highlighted`);
  // Mean gray level of the thumbnail canvas.
  const meanGray = () => page.evaluate(() => {
    const c = document.getElementById('thumb');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += d[i];
    return sum / (d.length / 4);
  });
  const thumb = await meanGray();
  await page.fill('#wl-width', '60');
  await page.dispatchEvent('#wl-width', 'input');
  const narrowed = await meanGray();
  thumb > 1 && Math.abs(narrowed - thumb) > 1
    ? ok(`thumbnail drawn; window/level changes it (mean ${thumb.toFixed(1)} → ${narrowed.toFixed(1)})`)
    : fail(`thumbnail mean ${thumb} / ${narrowed}`);
  await page.screenshot({ path: `${shots}/2-draft.png`, fullPage: true });

  // Edit so that a guideline hint applies, and see it beside its paragraph.
  const edited = 'FINDINGS: Small right pleural effusion. A 9 mm nodule in the left upper lobe.\n\n' +
                 'IMPRESSION: Small right pleural effusion.';
  await page.fill('#editor', edited);
  await page.click('#save');
  await page.waitForFunction(() => document.getElementById('message').textContent.length > 0);
  const hint = page.locator('#hints li[data-rule="guideline.nodule-follow-up"]');
  (await hint.count()) === 1 ? ok('edit saved; the nodule follow-up hint appears') : fail('no nodule hint after edit');
  const flagged = await page.locator('#annotated .para.flagged', { hasText: '9 mm nodule' }).count();
  flagged === 1 ? ok('hint placed beside the paragraph it concerns') : fail('hint not beside its paragraph');
  await page.screenshot({ path: `${shots}/3-edited-with-hint.png`, fullPage: true });

  await page.selectOption('#lang', 'zh-Hant');
  const zh = await hint.textContent();
  /[\u4e00-\u9fff]/.test(zh) && (await page.textContent('#sign')) === '簽署'
    ? ok('Traditional Chinese: hints and buttons translated')
    : fail(`zh-Hant: ${zh}`);
  await page.screenshot({ path: `${shots}/4-zh-hant.png`, fullPage: true });
  await page.selectOption('#lang', 'en');

  await page.click('#sign');
  await page.waitForSelector('#writeback code');
  const wb = await page.locator('#writeback code').allTextContents();
  wb.length === 2 && wb.every((s) => s.length > 0) && (await page.isDisabled('#sign'))
    ? ok(`signed; written back to ${wb.map((s) => s.split('/').slice(-2).join('/')).join(' and ')}`)
    : fail(`write-back: ${wb}`);
  await page.screenshot({ path: `${shots}/5-signed.png`, fullPage: true });

  await page.click('#nav-worklist');
  await page.waitForSelector('#worklist tbody tr');
  const status = await page.textContent('#worklist tbody tr:first-child td:nth-child(5)');
  status === 'signed' ? ok('worklist shows the report signed') : fail(`worklist status ${status}`);

  // A link carrying another user's token asks before switching (accepted here).
  await page.goto(`${url}/app/index.html#token=${otherToken}`);  // a new load, not a hash change
  await page.waitForSelector('#worklist-view:not([hidden])');
  dialogs.some((m) => m.includes('signs in as Kim^Jun') && m.includes('signed in as Lee^Anna'))
    && (await page.textContent('#who')).includes('Kim^Jun (resident')
    ? ok('a link with another user\'s token asks before switching users')
    : fail(`switching users: dialogs ${JSON.stringify(dialogs)}, who ${await page.textContent('#who')}`);
  errors.length === 0 ? ok('no script errors (CSP allows everything the page does)') : fail(`page errors: ${errors.join(' | ')}`);
} catch (e) {
  fail(String(e));
  if (page) {
    const message = await page.textContent('#message').catch(() => '');
    fail(`page said: ${message}`);
    await page.screenshot({ path: `${shots}/failure.png`, fullPage: true }).catch(() => {});
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
