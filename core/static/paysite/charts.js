/* The home page charts (chart.js from npm, served as a static file). Data comes from
   <script type="application/json"> elements written by Django's json_script; the same numbers are
   in a table next to each chart for readers without JavaScript. */
(function () {
  "use strict";
  var charts = {};
  var STATUS_COLOURS = {
    processing: "#485fc7", succeeded: "#48c78e", requires_capture: "#3e8ed0", failed: "#f14668",
    canceled: "#7a7a7a", refunded: "#ffb70f", partially_refunded: "#ffe08a"
  };

  function read(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  // Axis labels, legends and grid lines take the page's colours, so the charts read in the dark
  // theme too (Bulma's variables change with data-theme and prefers-color-scheme).
  function themeColours() {
    var style = getComputedStyle(document.body);
    Chart.defaults.color = style.getPropertyValue("--bulma-text").trim() || style.color;
    Chart.defaults.borderColor = style.getPropertyValue("--bulma-border-weak").trim() || "rgba(0,0,0,.1)";
  }

  function draw() {
    if (!window.Chart) return;
    themeColours();
    var volume = read("volume-data");
    var unit = volume ? Math.pow(10, volume.scale) : 1;
    var major = function (values) { return values.map(function (v) { return v / unit; }); };
    var canvas = document.getElementById("volume-chart");
    if (volume && canvas) {
      if (charts.volume) charts.volume.destroy();
      charts.volume = new Chart(canvas, {
        type: "bar",
        data: {
          labels: volume.labels,
          datasets: [
            { label: "Captured (" + volume.currency + ")", data: major(volume.captured), backgroundColor: "#485fc7", borderRadius: 3 },
            { label: "Refunded (" + volume.currency + ")", data: major(volume.refunded), backgroundColor: "#ffb70f", borderRadius: 3 }
          ]
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          interaction: { mode: "index", intersect: false },
          scales: { x: { grid: { display: false } }, y: { beginAtZero: true } },
          plugins: { legend: { position: "bottom" } }
        }
      });
    }
    var status = read("status-data");
    var doughnut = document.getElementById("status-chart");
    if (status && doughnut) {
      if (charts.status) charts.status.destroy();
      charts.status = new Chart(doughnut, {
        type: "doughnut",
        data: {
          labels: status.labels,
          datasets: [{ data: status.counts, backgroundColor: status.statuses.map(function (s) { return STATUS_COLOURS[s] || "#b5b5b5"; }) }]
        },
        options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { position: "right" } } }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
  document.addEventListener("paysite:theme", draw);
  if (window.matchMedia) {
    var scheme = window.matchMedia("(prefers-color-scheme: dark)");
    if (scheme.addEventListener) scheme.addEventListener("change", draw);
  }
})();
