// Two pages in headless Chromium (playwright-core from web/node_modules, the Debian chromium):
// a citizen on the web chat and a staff member in the console. Prints one JSON report.
//
//   node tests/handoff/handoff_check.mjs --web http://localhost:PORT --console http://127.0.0.1:PORT/staff \
//        --user NAME --password PW --screenshots DIR [--timeout 90]
//
// 1. The citizen asks for a person and presses the offer's confirm button; then writes a question
//    (the assistant must stay silent).
// 2. Staff log in, find the conversation in the inbox (with the waiting count), take it, read the
//    question in the transcript and reply.
// 3. The citizen sees the staff reply; a second message reaches staff and the assistant says nothing.
// 4. Staff close it; the citizen is told the assistant is back and gets an answer again.
// The Python test asserts on the JSON; this script only reports (exit 2 on a usage error).
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(join(ROOT, "web", "package.json"));
const { chromium } = require("playwright-core");

const args = { timeout: 90 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, "")] = argv[i + 1];
for (const required of ["web", "console", "user", "password", "screenshots"]) {
  if (!args[required]) {
    console.error(`--${required} is required`);
    process.exit(2);
  }
}
const timeoutMs = Number(args.timeout) * 1000;
const ASK = "cho tôi gặp cán bộ";
const FIRST = "Hồ sơ OCOP của HTX tôi nộp từ tháng 9 vẫn chưa có kết quả";
const REPLY = "Chào anh/chị, tôi là cán bộ Văn phòng Điều phối. Hồ sơ đang chờ Hội đồng cấp huyện chấm điểm.";
const SECOND = "Vậy tôi cần bổ sung giấy tờ gì không ạ?";
const AGAIN = "Tiền Giang có bao nhiêu sản phẩm OCOP 4 sao?";
const report = {
  steps: [], offer: null, confirmTitle: null, handoffMessage: null, session: null, silentAfterFirst: null,
  inboxCount: null, inboxRow: null, transcriptHasFirst: false, takenNotice: null, takenSeenByCitizen: null,
  replyNotice: null, replySeenByCitizen: false, secondSeenByStaff: false, silentAfterSecond: null,
  closeNotice: null, backMessage: null, answerAgain: null, screenshots: [], consoleErrors: [], error: null,
};

async function conversation(page) {
  return page.$$eval(".rw-messages-container .rw-message", (nodes) =>
    nodes.map((node) => {
      const bubble = node.querySelector(".rw-client, .rw-response") || node;
      return { who: node.querySelector(".rw-client") ? "user" : "bot", text: (bubble.innerText || "").trim() };
    })
  );
}

function botAfter(messages, question) {
  let start = -1;
  messages.forEach((m, i) => { if (m.who === "user" && m.text.includes(question)) start = i; });
  return start < 0 ? null : messages.slice(start + 1).filter((m) => m.who === "bot").map((m) => m.text);
}

async function waitFor(page, predicate, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await predicate();
    if (value) return value;
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function ask(page, text) {
  const input = page.locator(".rw-new-message");
  await input.waitFor({ state: "visible", timeout: timeoutMs });
  await input.fill(text);
  await input.press("Enter");
  await waitFor(page, async () => (await conversation(page)).some((m) => m.who === "user" && m.text.includes(text)), `"${text}" shown`);
}

const botTexts = async (page) => (await conversation(page)).filter((m) => m.who === "bot").map((m) => m.text);
const shot = async (page, name, fullPage = false) => {
  const path = resolve(args.screenshots, name);
  await page.screenshot({ path, fullPage });
  report.screenshots.push(path);
};

let browser;
try {
  mkdirSync(resolve(args.screenshots), { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking"],
  });
  const citizen = await (await browser.newContext({ viewport: { width: 900, height: 900 }, locale: "vi-VN" })).newPage();
  const staff = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "vi-VN" })).newPage();
  for (const page of [citizen, staff]) {
    page.setDefaultTimeout(timeoutMs);
    page.on("pageerror", (err) => report.consoleErrors.push(`pageerror: ${err.message}`));
    page.on("console", (msg) => { if (msg.type() === "error") report.consoleErrors.push(msg.text()); });
  }

  // 1. The citizen asks for a person and confirms.
  await citizen.goto(args.web, { waitUntil: "load" });
  await waitFor(citizen, async () => (await botTexts(citizen)).length > 0, "the greeting");
  await ask(citizen, ASK);
  const button = citizen.locator(".rw-reply", { hasText: "Gặp cán bộ" }).last();
  await button.waitFor({ state: "visible" });
  report.offer = (botAfter(await conversation(citizen), ASK) || []).join("\n");
  report.confirmTitle = (await button.innerText()).trim();
  await button.click();
  report.handoffMessage = await waitFor(citizen, async () =>
    (await botTexts(citizen)).find((t) => t.includes("chuyển cuộc trò chuyện cho cán bộ") || t.includes("ngoài giờ")), "the handoff message");
  report.session = await citizen.evaluate(() => {
    for (const store of [window.localStorage, window.sessionStorage]) {
      const raw = store.getItem("chat_session");
      if (raw) return JSON.parse(raw).session_id || null;
    }
    return null;
  });
  await ask(citizen, FIRST);
  await citizen.waitForTimeout(4000);
  report.silentAfterFirst = botAfter(await conversation(citizen), FIRST);
  report.steps.push("handed off, question written");

  // 2. Staff find it in the inbox, take it and reply.
  await staff.goto(`${args.console}/handoff`, { waitUntil: "load" });
  await staff.fill("#name", args.user);
  await staff.fill("#password", args.password);
  await Promise.all([staff.waitForNavigation({ waitUntil: "load" }), staff.click("#login")]);
  const row = staff.locator(`tr[data-sender="${report.session}"]`);
  await row.waitFor({ state: "visible" });
  report.inboxRow = (await row.innerText()).trim();
  report.inboxCount = await waitFor(staff, async () => (await staff.locator("#handoff-count").innerText()).trim(), "the waiting count");
  await Promise.all([staff.waitForNavigation({ waitUntil: "load" }), row.locator("a").first().click()]);
  report.transcriptHasFirst = (await staff.locator("#transcript").innerText()).includes(FIRST);
  await Promise.all([staff.waitForNavigation({ waitUntil: "load" }), staff.click("#take")]);
  report.takenNotice = await staff.locator("#notice").innerText();
  report.takenSeenByCitizen = await waitFor(citizen, async () => (await botTexts(citizen)).find((t) => t.includes("đã tiếp nhận")), "the taken message");
  await staff.fill("#text", REPLY);
  await Promise.all([staff.waitForNavigation({ waitUntil: "load" }), staff.click("#send")]);
  report.replyNotice = await staff.locator("#notice").innerText();
  report.steps.push("taken and replied");

  // 3. The citizen sees the reply; the next message reaches staff, and the assistant is silent.
  report.replySeenByCitizen = Boolean(await waitFor(citizen, async () => (await botTexts(citizen)).some((t) => t.includes(REPLY)), "the staff reply"));
  await ask(citizen, SECOND);
  report.secondSeenByStaff = Boolean(await waitFor(staff, async () => (await staff.locator("#transcript").innerText()).includes(SECOND), "the citizen's message in the console"));
  await citizen.waitForTimeout(3000);
  report.silentAfterSecond = botAfter(await conversation(citizen), SECOND);
  await shot(citizen, "handoff-webchat.png");
  await shot(staff, "handoff-console.png", true);
  report.steps.push("reply seen, silence kept");

  // 4. Staff close; the assistant is back.
  await Promise.all([staff.waitForNavigation({ waitUntil: "load" }), staff.click("#close")]);
  report.closeNotice = await staff.locator("#notice").innerText();
  report.backMessage = await waitFor(citizen, async () => (await botTexts(citizen)).find((t) => t.includes("quay lại")), "the back message");
  await ask(citizen, AGAIN);
  report.answerAgain = await waitFor(citizen, async () => {
    const texts = botAfter(await conversation(citizen), AGAIN) || [];
    return texts.some((t) => t.includes("95")) ? texts.join("\n") : null;
  }, "an answer after the handoff");
  report.steps.push("closed, answered again");
} catch (err) {
  report.error = String(err && err.stack ? err.stack : err);
} finally {
  if (browser) await browser.close().catch(() => {});
}
console.log(JSON.stringify(report));
