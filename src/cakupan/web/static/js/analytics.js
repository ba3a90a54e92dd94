// The national analytics charts (Apache ECharts, vendored): active participants by province
// (bars) and the national cohort retention as a heatmap (cohort x month of age, percent).
// Data comes from a JSON script element: no inline script under the Content-Security-Policy.
(function () {
  "use strict";
  var data = document.getElementById("analytics-data");
  var bars = document.getElementById("province-chart");
  var heat = document.getElementById("analytics-cohort-chart");
  if (!data || !bars || !heat || typeof echarts === "undefined") { return; }
  var values = JSON.parse(data.textContent);
  var locale = values.locale || "id-ID";
  var count = function (v) { return Number(v).toLocaleString(locale); };
  var percent = function (v) {
    return v === null || v === undefined ? "–"
      : Number(v).toLocaleString(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + "%";
  };
  var phone = window.innerWidth < 600;
  var provinces = values.provinces.slice().sort(function (a, b) { return a.active - b.active; });
  var b = echarts.init(bars, null, { renderer: "canvas" });
  b.setOption({
    animation: false,
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", valueFormatter: count },
    xAxis: { type: "value", minInterval: 1, axisLabel: { formatter: count } },
    yAxis: { type: "category", data: provinces.map(function (p) { return p.name; }),
      axisLabel: { width: phone ? 90 : 220, overflow: "truncate" } },
    series: [{ name: values.names.active, type: "bar", data: provinces.map(function (p) { return p.active; }),
      itemStyle: { color: "#0a6e3f" }, label: { show: true, position: "right", formatter: function (p) { return count(p.value); } } }]
  });
  var cells = [];
  values.cohorts.forEach(function (c, row) {
    c.percent.forEach(function (v, i) { if (v !== null) { cells.push([i, row, v]); } });
  });
  var h = echarts.init(heat, null, { renderer: "canvas" });
  h.setOption({
    animation: false,
    // Below the plot: the month-of-age labels, the axis name, then the colour scale (none of
    // them overlapping, on a phone too).
    grid: { left: 8, right: 8, top: 8, bottom: 96, containLabel: true },
    tooltip: { formatter: function (p) {
      return values.cohorts[p.value[1]].name + " · " + values.names.age + " " + values.ages[p.value[0]] + ": " + percent(p.value[2]);
    } },
    xAxis: { type: "category", data: values.ages.map(String), name: values.names.age, nameLocation: "middle", nameGap: 24 },
    yAxis: { type: "category", data: values.cohorts.map(function (c) { return c.name; }), inverse: true },
    visualMap: { min: 0, max: 100, dimension: 2, orient: "horizontal", left: "center", bottom: 4, itemWidth: 14,
      itemHeight: phone ? 160 : 200, text: [percent(100), percent(0)],
      inRange: { color: ["#fef3c7", "#34d399", "#065f46"] }, formatter: function (v) { return percent(v); } },
    series: [{ type: "heatmap", data: cells, label: { show: true, formatter: function (p) { return percent(p.value[2]); }, fontSize: 10 } }]
  });
  bars.setAttribute("data-chart-ready", "1");
  heat.setAttribute("data-chart-ready", "1");
  window.addEventListener("resize", function () { b.resize(); h.resize(); });
})();
