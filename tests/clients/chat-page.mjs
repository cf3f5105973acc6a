// Real-client test: flowdm's chat pages (GET /chat/{projectID}) with the real web chat widget
// (@voiceflow/react-chat 1.65.2) in headless Debian Chromium, driven by puppeteer-core.
//
// * catalogue: the launch text, the carousel, a card's "Buy Chair" button, the resulting card;
// * hand-off: a choice button ("FAQ") and the FAQ text;
// * payment: the "Pay $25" choice, the stopping custom action "Pay Credit Card" rendered by the
//   page's extension (/chat/assets/extensions.js), its "Pay" button, the text of the success path.
//
// The browser may only reach the server: every other request (the agents' example.com images)
// is aborted and listed; a request to cdn.voiceflow.com fails the test.
// Screenshots: target/clients/chat-page.png (payment) and target/clients/chat-page-catalogue.png.
//
// usage: node chat-page.mjs <baseURL> [screenshot directory]
import puppeteer from 'puppeteer-core';

const base = process.argv[2] || process.env.FLOWDM_URL;
if (!base) throw new Error('usage: node chat-page.mjs <baseURL> [dir]');
const shots = process.argv[3] || '.';
const CATALOGUE = '64c3f0000000000000000001';
const HANDOFF = '64b2f0000000000000000001';
const PAYMENT = '64a1f0000000000000000001';
const origin = new URL(base).origin;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
});
const blocked = [];
const browserErrors = [];

async function openChat(projectID) {
  // A fresh incognito context per agent: its own localStorage, so its own widget session.
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 480, height: 800 });
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    const url = req.url();
    if (url.startsWith('data:') || url.startsWith(origin + '/') || url === origin) req.continue();
    else {
      blocked.push(url);
      req.abort();
    }
  });
  page.on('console', (m) => {
    if (m.type() === 'error') browserErrors.push(m.text());
  });
  page.on('pageerror', (e) => browserErrors.push(String(e)));
  const res = await page.goto(`${base}/chat/${projectID}`, { waitUntil: 'load' });
  if (res.status() !== 200) throw new Error(`chat page ${projectID}: ${res.status()}`);
  return { page, context };
}

const dialogText = (page) =>
  page.$$eval('pierce/.vfrc-chat--dialog', (els) => els.map((e) => e.textContent).join(' '));

async function see(page, needle, ms = 15000) {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(200)) {
    if ((await dialogText(page)).includes(needle)) return;
  }
  throw new Error(`not rendered: ${needle}\n--- dialog ---\n${await dialogText(page)}`);
}

// A button of the widget (choice, card, carousel) or of an extension, by its text.
async function click(page, label, ms = 15000) {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(200)) {
    for (const b of await page.$$('pierce/button')) {
      const [text, disabled] = await b.evaluate((e) => [e.textContent.trim(), e.disabled]);
      if (text === label && !disabled) return b.click();
    }
  }
  const labels = [];
  for (const b of await page.$$('pierce/button')) labels.push(await b.evaluate((e) => e.textContent.trim()));
  throw new Error(`no button ${JSON.stringify(label)}; buttons: ${JSON.stringify(labels)}`);
}

async function waitFor(page, selector, ms = 15000) {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(200)) {
    const el = await page.$(`pierce/${selector}`);
    if (el) return el;
  }
  throw new Error(`no element ${selector}\n--- dialog ---\n${await dialogText(page)}`);
}

try {
  // ---- catalogue: carousel and card ----
  {
    const { page, context } = await openChat(CATALOGUE);
    await see(page, 'Welcome to the Acme store! All prices are in USD.');
    await see(page, "Here are today's products:");
    await waitFor(page, '.vfrc-carousel');
    await see(page, 'An ergonomic office chair.');
    await click(page, 'Buy Chair');
    await see(page, 'You picked Chair for 120 USD.');
    await see(page, 'Your order: Chair'); // cardV2
    await waitFor(page, '.vfrc-card');
    await see(page, 'Good news: orders over 100 USD ship for free!');
    await page.screenshot({ path: `${shots}/chat-page-catalogue.png` });
    await context.close();
  }
  // ---- hand-off: a choice button ----
  {
    const { page, context } = await openChat(HANDOFF);
    await see(page, 'Welcome to support, Alex! How can we help you today?');
    await click(page, 'FAQ');
    await see(page, 'FAQ: we answer Monday to Friday');
    await see(page, 'FAQ finished (faq_done = 1).');
    await context.close();
  }
  // ---- payment: the stopping custom action answered by the page's extension ----
  {
    const { page, context } = await openChat(PAYMENT);
    await see(page, 'Hi there! Welcome to the payment demo.');
    await see(page, 'Your total is $25. How would you like to proceed?');
    await click(page, 'Pay $25');
    await waitFor(page, 'form.flowdm-payment');
    await see(page, 'Payment: $25');
    await click(page, 'Pay');
    await see(page, 'Payment of $25 received. Thank you!');
    await sleep(500);
    await page.screenshot({ path: `${shots}/chat-page.png` });
    await context.close();
  }
} catch (e) {
  console.error(`chat-page.mjs: FAILED: ${e.message}`);
  if (browserErrors.length) console.error(`browser errors:\n  ${browserErrors.join('\n  ')}`);
  await browser.close();
  process.exit(1);
}
await browser.close();

const cdn = blocked.filter((u) => /voiceflow\.com/.test(u));
if (cdn.length) {
  console.error(`chat-page.mjs: FAILED: the widget fetched from Voiceflow's CDN: ${cdn.join(', ')}`);
  process.exit(1);
}
const others = blocked.filter((u) => !u.startsWith('https://example.com/'));
if (others.length) console.log(`chat-page.mjs: blocked requests to other hosts: ${others.join(', ')}`);
console.log(
  `chat-page.mjs: PASSED (${blocked.length} request(s) off loopback aborted, ` +
    `screenshots ${shots}/chat-page.png, ${shots}/chat-page-catalogue.png)`,
);
