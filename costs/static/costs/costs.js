/* The cost page's chart (chart.js from npm). Its numbers come from the json_script element next to
   the line-item table, which shows the same numbers without JavaScript. Redrawn after every htmx
   swap of the report. */
(function () {
  "use strict";
  var chart = null;

  function draw() {
    var data = document.getElementById("cost-chart-data");
    var canvas = document.getElementById("cost-chart");
    if (!window.Chart || !data || !canvas) return;
    var values = JSON.parse(data.textContent);
    if (!values) return;
    var datasets = [{ label: "Estimate ($ a month)", data: values.estimate.map(Number), backgroundColor: "#485fc7", borderRadius: 3 }];
    if (values.measured) {
      datasets.push({ label: "From measured units ($ a month)", data: values.measured.map(Number), backgroundColor: "#48c78e", borderRadius: 3 });
    }
    if (chart) chart.destroy();
    chart = new Chart(canvas, {
      type: "bar",
      data: { labels: values.labels, datasets: datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } }
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
