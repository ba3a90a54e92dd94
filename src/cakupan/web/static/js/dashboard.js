// The dashboard's charts (Apache ECharts, vendored): monthly trend and the retention of each
// registration cohort as a heatmap (cohort x month of age, in percent). Data and the legend
// names (in the page's language) come from a JSON script element: no inline script under the
// Content-Security-Policy. Numbers use the page's locale ("12.000", "54,2%"); re-drawn after an
// htmx filter swap.
(function () {
  "use strict";
  function draw() {
    var data = document.getElementById("dashboard-data");
    var trend = document.getElementById("trend-chart");
    var cohort = document.getElementById("cohort-chart");
    if (!data || !trend || !cohort || typeof echarts === "undefined") { return; }
    var values = JSON.parse(data.textContent);
    var locale = values.locale || "id-ID";
    var names = values.names;
    var count = function (v) { return v === null || v === undefined ? "–" : Number(v).toLocaleString(locale); };
    var rupiah = function (v) { return "Rp " + Math.round(v).toLocaleString("id-ID"); };
    var percent = function (v) {
      return v === null || v === undefined ? "–"
        : Number(v).toLocaleString(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + "%";
    };
    var phone = window.innerWidth < 600;
    var t = echarts.getInstanceByDom(trend) || echarts.init(trend, null, { renderer: "canvas" });
    t.setOption({
      animation: false,
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 8, top: phone ? 48 : 36, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: values.months },
      yAxis: [
        { type: "value", minInterval: 1, axisLabel: { formatter: count } },
        { type: "value", axisLabel: { formatter: function (v) { return phone ? count(v / 1e6) + " jt" : rupiah(v); } } }
      ],
      series: [
        { name: names.registrations, type: "bar", data: values.registrations, itemStyle: { color: "#0a6e3f" },
          tooltip: { valueFormatter: count } },
        { name: names.active, type: "line", data: values.active, tooltip: { valueFormatter: count } },
        { name: names.contributions, type: "line", yAxisIndex: 1, data: values.contributions,
          tooltip: { valueFormatter: rupiah } }
      ]
    }, true);
    // A click on a bar or a point opens the records behind that month's figure.
    var kpis = ["new_registrations", "active", "payments"];
    t.off("click");
    t.on("click", function (p) {
      var kpi = kpis[p.seriesIndex];
      var month = values.month_codes[p.dataIndex];
      if (!kpi || !month || !values.records) { return; }
      window.location.href = values.records + "&kpi=" + kpi + "&month=" + encodeURIComponent(month);
    });
    var c = echarts.getInstanceByDom(cohort) || echarts.init(cohort, null, { renderer: "canvas" });
    var cells = [];
    values.cohorts.forEach(function (s, row) {
      s.data.forEach(function (point) { if (point[1] !== null) { cells.push([point[0], row, point[1]]); } });
    });
    var ages = [];
    for (var a = 0; a <= 12; a++) { ages.push(String(a)); }
    c.setOption({
      animation: false,
      grid: { left: 8, right: 8, top: 8, bottom: phone ? 64 : 56, containLabel: true },
      tooltip: { formatter: function (p) {
        return values.cohorts[p.value[1]].name + " · " + names.age + " " + p.value[0] + ": " + percent(p.value[2]);
      } },
      xAxis: { type: "category", data: ages, name: names.age, nameLocation: "middle", nameGap: 24, splitArea: { show: true } },
      yAxis: { type: "category", data: values.cohorts.map(function (s) { return s.name; }), inverse: true, splitArea: { show: true } },
      visualMap: { min: 0, max: 100, calculable: false, orient: "horizontal", left: "center", bottom: 0,
        itemHeight: phone ? 120 : 200, inRange: { color: ["#fef3c7", "#34d399", "#065f46"] },
        formatter: function (v) { return percent(v); } },
      series: [{ type: "heatmap", data: cells,
        label: { show: !phone, formatter: function (p) { return Math.round(p.value[2]); }, fontSize: 10 } }]
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
