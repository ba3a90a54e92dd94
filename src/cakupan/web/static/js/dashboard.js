// The dashboard's charts (Apache ECharts, vendored): monthly trend and retention cohort curves.
// Data comes from a JSON script element (no inline script under the Content-Security-Policy);
// re-drawn after an htmx filter swap.
(function () {
  "use strict";
  function rupiah(value) { return "Rp " + Math.round(value).toLocaleString("id-ID"); }
  function draw() {
    var data = document.getElementById("dashboard-data");
    var trend = document.getElementById("trend-chart");
    var cohort = document.getElementById("cohort-chart");
    if (!data || !trend || !cohort || typeof echarts === "undefined") { return; }
    var values = JSON.parse(data.textContent);
    var t = echarts.getInstanceByDom(trend) || echarts.init(trend, null, { renderer: "canvas" });
    t.setOption({
      animation: false,
      legend: { top: 0 },
      grid: { left: 48, right: 48, top: 32, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: values.months },
      yAxis: [
        { type: "value", minInterval: 1 },
        { type: "value", axisLabel: { formatter: function (v) { return rupiah(v); } } }
      ],
      series: [
        { name: "Pendaftaran / Registrations", type: "bar", data: values.registrations, itemStyle: { color: "#0a6e3f" } },
        { name: "Aktif / Active", type: "line", data: values.active },
        { name: "Iuran / Contributions", type: "line", yAxisIndex: 1, data: values.contributions,
          tooltip: { valueFormatter: rupiah } }
      ]
    }, true);
    var c = echarts.getInstanceByDom(cohort) || echarts.init(cohort, null, { renderer: "canvas" });
    c.setOption({
      animation: false,
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 16, top: 32, bottom: 28 },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "-" : v + "%"; } },
      xAxis: { type: "value", min: 0, max: 12, interval: 1, name: "bulan / month" },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: values.cohorts.map(function (s) { return { name: s.name, type: "line", data: s.data, showSymbol: false }; })
    }, true);
    trend.setAttribute("data-chart-ready", "1");
    cohort.setAttribute("data-chart-ready", "1");
  }
  draw();
  document.body.addEventListener("htmx:afterSettle", draw);
  window.addEventListener("resize", function () {
    ["trend-chart", "cohort-chart"].forEach(function (id) {
      var el = document.getElementById(id);
      var chart = el && typeof echarts !== "undefined" && echarts.getInstanceByDom(el);
      if (chart) { chart.resize(); }
    });
  });
})();
