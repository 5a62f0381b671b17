// Drive the web chat in headless Chromium (playwright-core from web/node_modules, the
// Debian chromium binary) and print what happened as one JSON object on stdout.
//
//   node tests/e2e/browser_check.mjs --url http://localhost:8080 --screenshot results/e2e/webchat.png \
//        --question "..." --expect 95 --expect Nguồn [--hotline "..."] [--timeout 90]
//
// Steps: open the page, wait for the greeting, ask the question, wait for an answer
// containing every --expect string, screenshot, reload and check the conversation and
// session id are still there, then (with --hotline) ask for a hotline and collect the
// tel:/mailto: links rendered by the widget. The Python test asserts on the JSON; this
// script only reports (exit code 2 on a usage error, 0 otherwise).
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(join(ROOT, "web", "package.json"));
const { chromium } = require("playwright-core");

function parseArgs(argv) {
  const args = { expect: [], timeout: 90 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value for ${argv[i]}`);
    if (key === "expect") args.expect.push(value);
    else args[key] = key === "timeout" ? Number(value) : value;
  }
  for (const required of ["url", "screenshot", "question"]) {
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
  url: args.url,
  steps: [],
  greeting: null,
  answer: null,
  sessionBefore: null,
  sessionAfter: null,
  restoredQuestion: false,
  restoredAnswer: false,
  greetingsAfterReload: null,
  telLinks: [],
  hotlineAnswer: null,
  placeholder: null,
  title: null,
  consoleErrors: [],
  cspViolations: [],
  externalRequests: [],
  screenshot: resolve(args.screenshot),
  error: null,
};

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const timeoutMs = args.timeout * 1000;

// All messages of the conversation, in order: {who: "user"|"bot", text} (bubble text,
// without the quick-reply buttons under it).
async function conversation(page) {
  return page.$$eval(".rw-messages-container .rw-message", (nodes) =>
    nodes.map((node) => {
      const bubble = node.querySelector(".rw-client, .rw-response") || node;
      return {
        who: node.querySelector(".rw-client") ? "user" : "bot",
        text: (bubble.innerText || "").trim(),
      };
    })
  );
}

// Text of the bot messages that follow the last user message equal to `question`.
function botTextAfter(messages, question) {
  let start = -1;
  messages.forEach((m, i) => {
    if (m.who === "user" && m.text.includes(question)) start = i;
  });
  if (start < 0) return null;
  return messages
    .slice(start + 1)
    .filter((m) => m.who === "bot")
    .map((m) => m.text)
    .join("\n");
}

async function waitFor(page, predicate, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await predicate();
    if (value) return value;
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out after ${args.timeout} s waiting for ${what}`);
}

async function ask(page, text) {
  const input = page.locator(".rw-new-message");
  await input.waitFor({ state: "visible", timeout: timeoutMs });
  await input.fill(text);
  await input.press("Enter");
  await waitFor(
    page,
    async () => (await conversation(page)).some((m) => m.who === "user" && m.text.includes(text)),
    `the user message "${text}" to appear`
  );
}

async function sessionId(page) {
  return page.evaluate(() => {
    for (const store of [window.localStorage, window.sessionStorage]) {
      const raw = store.getItem("chat_session");
      if (raw) {
        try {
          return JSON.parse(raw).session_id || null;
        } catch (e) {
          return null;
        }
      }
    }
    return null;
  });
}

const profile = mkdtempSync(join(tmpdir(), "ocop-chromium-"));
let context;
try {
  mkdirSync(dirname(report.screenshot), { recursive: true });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 960 },
    locale: "vi-VN",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (msg) => {
    const text = msg.text();
    if (/Content Security Policy/i.test(text)) report.cspViolations.push(text);
    else if (msg.type() === "error") report.consoleErrors.push(text);
  });
  page.on("pageerror", (err) => report.consoleErrors.push(`pageerror: ${err.message}`));
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (/^(https?|wss?):$/.test(url.protocol) && !LOCAL_HOSTS.has(url.hostname)) {
      report.externalRequests.push(req.url());
    }
  });

  await page.goto(args.url, { waitUntil: "load", timeout: timeoutMs });
  report.title = await page.title();
  report.steps.push("page loaded");

  report.greeting = await waitFor(
    page,
    async () => (await conversation(page)).find((m) => m.who === "bot" && m.text.length > 0)?.text,
    "the greeting"
  );
  report.placeholder = await page.locator(".rw-new-message").getAttribute("placeholder");
  report.steps.push("greeting shown");

  await ask(page, args.question);
  report.answer = await waitFor(
    page,
    async () => {
      const text = botTextAfter(await conversation(page), args.question);
      return text && args.expect.every((s) => text.includes(s)) ? text : null;
    },
    `an answer containing ${JSON.stringify(args.expect)}`
  );
  await page.waitForTimeout(1500); // let the last bubbles and buttons render
  report.answer = botTextAfter(await conversation(page), args.question);
  report.sessionBefore = await sessionId(page);
  await page.screenshot({ path: report.screenshot, fullPage: true });
  report.steps.push("answer shown, screenshot saved");

  await page.reload({ waitUntil: "load", timeout: timeoutMs });
  await waitFor(
    page,
    async () => (await conversation(page)).some((m) => m.who === "user" && m.text.includes(args.question)),
    "the conversation to be restored after reload"
  );
  await page.waitForTimeout(3000); // a new session would greet again by now
  const restored = await conversation(page);
  report.restoredQuestion = restored.some((m) => m.who === "user" && m.text.includes(args.question));
  const restoredAnswer = botTextAfter(restored, args.question) || "";
  report.restoredAnswer = args.expect.every((s) => restoredAnswer.includes(s));
  report.greetingsAfterReload = restored.filter((m) => m.who === "bot" && m.text.startsWith("Xin chào")).length;
  report.sessionAfter = await sessionId(page);
  report.steps.push("conversation restored after reload");

  if (args.hotline) {
    await ask(page, args.hotline);
    report.telLinks = await waitFor(
      page,
      async () => {
        const links = await page.$$eval('.rw-messages-container a[href^="tel:"], .rw-messages-container a[href^="mailto:"]', (as) =>
          as.map((a) => ({ href: a.getAttribute("href"), text: (a.innerText || "").trim() }))
        );
        return links.length ? links : null;
      },
      "tel:/mailto: links after the hotline question"
    );
    report.hotlineAnswer = botTextAfter(await conversation(page), args.hotline);
    await page.screenshot({ path: report.screenshot.replace(/\.png$/, "-hotline.png"), fullPage: true });
    report.steps.push("hotline links rendered");
  }
} catch (err) {
  report.error = String(err && err.stack ? err.stack : err);
  try {
    const page = context && context.pages()[0];
    if (page) await page.screenshot({ path: report.screenshot.replace(/\.png$/, "-failure.png"), fullPage: true });
  } catch (e) {
    // best effort
  }
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report, null, 2) + "\n");
