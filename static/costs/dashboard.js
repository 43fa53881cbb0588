// The spend chart of the costs dashboard, drawn from the JSON the page embeds (#spend-series).
document.addEventListener("DOMContentLoaded", function () {
  var source = document.getElementById("spend-series");
  if (!source || !window.Chart) { return; }
  var series = JSON.parse(source.textContent);
  new Chart(document.getElementById("spend-chart"), {
    type: "bar",
    data: series,
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, ticks: { callback: function (v) { return "$" + v; } } } },
      plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": $" + c.parsed.y.toFixed(2); } } } }
    }
  });
  document.getElementById("spend-chart").dataset.ready = "true";
});
