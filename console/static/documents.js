// Progress of the background index rebuild (documents page): poll the status while it runs.
(function () {
  const box = document.getElementById("rebuild");
  if (!box) return;
  const text = document.getElementById("rebuild-text");
  const meter = document.getElementById("rebuild-meter");
  async function poll() {
    let status;
    try {
      const resp = await fetch(box.dataset.status, { credentials: "same-origin", cache: "no-store" });
      if (!resp.ok) return;
      status = await resp.json();
    } catch (e) {
      setTimeout(poll, 5000);
      return;
    }
    text.textContent = status.text;
    const running = status.state === "running" || status.completed < status.requested;
    meter.hidden = !(running && status.total > 0);
    if (status.total > 0) meter.value = status.done / status.total;
    box.dataset.state = status.state;
    if (running) setTimeout(poll, 1000);
  }
  poll();
})();
