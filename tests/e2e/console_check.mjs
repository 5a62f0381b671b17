// Drive the staff console in headless Chromium (playwright-core from web/node_modules, the
// Debian chromium binary) and print what happened as one JSON object on stdout.
//
//   node tests/e2e/console_check.mjs --url http://127.0.0.1:PORT/staff --user NAME --password PW \
//        --question "..." --card-id ID --topic "..." --answer "..." --screenshots results/e2e [--timeout 90]
//
// Steps: open /staff/unanswered (redirected to the login), log in, check the question is in the
// conversation list (REST channel, refused), search the unanswered list
// for the question, screenshot it, follow the group's "Viết thẻ mới" link, check the question
// is prefilled, fill id, topic, answer and source, save, and wait for the saved notice (or
// report the validation problems shown). The Python test asserts on the JSON; this script
// only reports (exit code 2 on a usage error, 0 otherwise).
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(join(ROOT, "web", "package.json"));
const { chromium } = require("playwright-core");

function parseArgs(argv) {
  const args = { timeout: 90 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value for ${argv[i]}`);
    args[key] = key === "timeout" ? Number(value) : value;
  }
  for (const required of ["url", "user", "password", "question", "card-id", "topic", "answer", "screenshots"]) {
    if (!args[required]) throw new Error(`--${required} is required`);
  }
  return args;
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  console.error(String(err.message || err));
  process.exit(2);
}

const report = {
  steps: [],
  loginRedirect: null,
  inConversations: false,
  groupFound: false,
  groupText: null,
  prefilledQuestions: null,
  saved: null,
  problems: [],
  cardUrl: null,
  consoleErrors: [],
  cspViolations: [],
  externalRequests: [],
  screenshots: [],
  error: null,
};
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const timeoutMs = args.timeout * 1000;
const shot = async (page, name) => {
  const path = resolve(args.screenshots, name);
  await page.screenshot({ path, fullPage: true });
  report.screenshots.push(path);
};

const profile = mkdtempSync(join(tmpdir(), "ocop-console-chromium-"));
let context;
try {
  mkdirSync(resolve(args.screenshots), { recursive: true });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    locale: "vi-VN",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(timeoutMs);
  page.on("console", (msg) => {
    const text = msg.text();
    if (/Content Security Policy/i.test(text)) report.cspViolations.push(text);
    else if (msg.type() === "error") report.consoleErrors.push(text);
  });
  page.on("pageerror", (err) => report.consoleErrors.push(`pageerror: ${err.message}`));
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (/^(https?|wss?):$/.test(url.protocol) && !LOCAL_HOSTS.has(url.hostname)) report.externalRequests.push(req.url());
  });

  await page.goto(`${args.url}/unanswered`, { waitUntil: "load" });
  report.loginRedirect = new URL(page.url()).pathname;
  await page.fill("#name", args.user);
  await page.fill("#password", args.password);
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("#login")]);
  report.steps.push(`logged in, now at ${new URL(page.url()).pathname}`);

  await page.goto(`${args.url}/conversations?channel=rest&outcome=refusal`, { waitUntil: "load" });
  report.inConversations = (await page.locator("table", { hasText: args.question }).count()) > 0;
  report.steps.push("conversation list checked");

  await page.goto(`${args.url}/unanswered`, { waitUntil: "load" });
  await page.fill("#q", args.question);
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("#search button")]);
  const group = page.locator(".group", { hasText: args.question }).first();
  report.groupFound = (await group.count()) > 0;
  if (!report.groupFound) throw new Error("the question is not in the unanswered list");
  report.groupText = (await group.innerText()).slice(0, 2000);
  await shot(page, "console-unanswered.png");
  report.steps.push("question found in the unanswered list");

  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), group.locator("a.new-card").click()]);
  report.prefilledQuestions = await page.inputValue("#questions");
  await page.fill("#id", args["card-id"]);
  await page.fill("#topic", args.topic);
  await page.fill("#answer", args.answer);
  await page.fill("#source_title", "Hướng dẫn của Văn phòng Điều phối nông thôn mới tỉnh (thử nghiệm)");
  await page.fill("#source_issuer", "Văn phòng Điều phối nông thôn mới tỉnh");
  await page.fill("#source_date", "2026-12-06");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("#save-card")]);
  report.cardUrl = new URL(page.url()).pathname;
  if (await page.locator("#problems").count()) report.problems = await page.locator("#problems li").allInnerTexts();
  report.saved = (await page.locator("#saved").count()) ? await page.locator("#saved").innerText() : null;
  await shot(page, "console-card.png");
  report.steps.push("card form submitted");
} catch (err) {
  report.error = String(err && err.stack ? err.stack : err);
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(report));
