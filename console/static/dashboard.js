// Dashboard charts (Chart.js served from static/vendor; data from the page's JSON block).
(function () {
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return; // the tables below show the same figures
  const data = JSON.parse(source.textContent);
  const palette = ["#0b6e4f", "#2f80c2", "#e0a030", "#8e5bb5", "#4aa3a2", "#a33a1d", "#7a8691"];
  const colors = (n) => Array.from({ length: n }, (_, i) => palette[i % palette.length]);

  new Chart(document.getElementById("chart-days"), {
    type: "bar",
    data: {
      labels: data.days,
      datasets: data.channels.map((c, i) => ({ label: c, data: data.perChannel[c], backgroundColor: colors(data.channels.length)[i] })),
    },
    options: { responsive: true, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  });
  new Chart(document.getElementById("chart-shares"), {
    type: "line",
    data: {
      labels: data.days,
      datasets: [
        { label: data.labels.answered, data: data.answeredShare, borderColor: "#0b6e4f", backgroundColor: "#0b6e4f" },
        { label: data.labels.unanswered, data: data.unansweredShare, borderColor: "#a33a1d", backgroundColor: "#a33a1d" },
        { label: data.labels.down, data: data.downShare, borderColor: "#e0a030", backgroundColor: "#e0a030", borderDash: [6, 3] },
      ],
    },
    options: { responsive: true, scales: { y: { min: 0, max: 100, ticks: { callback: (v) => v + "%" } } } },
  });
  new Chart(document.getElementById("chart-outcomes"), {
    type: "doughnut",
    // card, statistic, passage, contact, refusal, fallback, other (console/outcomes.py order)
    data: { labels: data.outcomeLabels, datasets: [{ data: data.outcomeCounts, backgroundColor: ["#0b6e4f", "#2f80c2", "#4aa3a2", "#8e5bb5", "#a33a1d", "#e0a030", "#7a8691"] }] },
    options: { responsive: true, aspectRatio: 2, plugins: { legend: { position: "right" } } },
  });
  new Chart(document.getElementById("chart-refs"), {
    type: "bar",
    data: { labels: data.refLabels, datasets: [{ label: data.labels.refs, data: data.refCounts, backgroundColor: "#2f80c2" }] },
    options: { indexAxis: "y", responsive: true, plugins: { legend: { display: false } } },
  });
})();
