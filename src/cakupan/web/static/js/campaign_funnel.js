// The campaigns page's funnel comparison (Apache ECharts, vendored): one line per campaign,
// segment or channel across the AIDA stages. Data comes from a JSON script element (no inline
// script; Content-Security-Policy script-src 'self').
(function () {
  "use strict";
  var holder = document.getElementById("funnel-chart");
  var data = document.getElementById("funnel-data");
  if (!holder || !data || typeof echarts === "undefined") { return; }
  var values = JSON.parse(data.textContent);
  var chart = echarts.init(holder, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    // The legend (one scrolling line) above the plot, clear of the top axis label; the axis
    // labels inside the chart's box (containLabel), so rotated stage names are not cut off.
    grid: { left: 8, right: 12, top: 44, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis" },
    legend: { type: "scroll", top: 0 },
    xAxis: { type: "category", data: values.stages, axisLabel: { interval: 0, rotate: 20 } },
    yAxis: { type: "log", min: 1, logBase: 10 },
    series: values.series.map(function (s) {
      return { name: s.name, type: "line", data: s.counts.map(function (c) { return c > 0 ? c : null; }) };
    })
  });
  holder.setAttribute("data-chart-ready", "1");
  window.addEventListener("resize", function () { chart.resize(); });
})();
