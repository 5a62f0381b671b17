// Handoff inbox and conversation: poll the server-rendered fragments (escaped by the templates)
// and the waiting count shown in the header. No live socket: a poll every few seconds is enough.
(function () {
  const every = (ms, fn) => { fn(); return setInterval(fn, ms); };
  document.querySelectorAll("[data-poll]").forEach((box) => {
    let last = box.innerHTML;
    setInterval(async () => {
      try {
        const resp = await fetch(box.dataset.poll, { credentials: "same-origin", cache: "no-store" });
        if (!resp.ok || resp.redirected) return;
        const html = await resp.text();
        if (html !== last) { box.innerHTML = html; last = html; }
      } catch (e) { /* offline for a moment: try again at the next tick */ }
    }, 3000);
  });
  const badge = document.getElementById("handoff-count");
  if (badge) {
    every(10000, async () => {
      try {
        const resp = await fetch(badge.dataset.url, { credentials: "same-origin", cache: "no-store" });
        if (!resp.ok || resp.redirected) return;
        const data = await resp.json();
        badge.textContent = String(data.waiting);
        badge.classList.toggle("zero", data.waiting === 0);
      } catch (e) { /* try again later */ }
    });
  }
})();
