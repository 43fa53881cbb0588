// The coverage chart of the tag backfill page, drawn from the JSON the page embeds (#coverage-series).
document.addEventListener("DOMContentLoaded", function () {
  var source = document.getElementById("coverage-series");
  if (!source || !window.Chart) { return; }
  var series = JSON.parse(source.textContent);
  new Chart(document.getElementById("coverage-chart"), {
    type: "bar",
    data: series,
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: "y",
      scales: { x: { stacked: true, ticks: { precision: 0 } }, y: { stacked: true } }
    }
  });
  document.getElementById("coverage-chart").dataset.ready = "true";
});
