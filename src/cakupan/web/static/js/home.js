// The home page's activity chart (Apache ECharts, vendored). Data comes from a JSON script element
// so that the page needs no inline script (Content-Security-Policy: script-src 'self').
(function () {
  "use strict";
  var holder = document.getElementById("activity-chart");
  var data = document.getElementById("activity-data");
  if (!holder || !data || typeof echarts === "undefined") { return; }
  var values = JSON.parse(data.textContent);
  var chart = echarts.init(holder, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    grid: { left: 32, right: 12, top: 16, bottom: 28 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: values.labels },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", data: values.counts, itemStyle: { color: "#0a6e3f" } }]
  });
  holder.setAttribute("data-chart-ready", "1");
  window.addEventListener("resize", function () { chart.resize(); });
})();
