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
    // Rupiah axis labels short enough for a phone: "35 rb", "1,2 jt", "3,4 M" (or k/m/bn).
    var en = locale.indexOf("en") === 0;
    var shortRupiah = function (v) {
      var units = en ? [[1e9, " bn"], [1e6, " m"], [1e3, " k"]] : [[1e9, " M"], [1e6, " jt"], [1e3, " rb"]];
      for (var i = 0; i < units.length; i++) {
        if (Math.abs(v) >= units[i][0]) {
          return Number(v / units[i][0]).toLocaleString(locale, { maximumFractionDigits: 1 }) + units[i][1];
        }
      }
      return count(v);
    };
    var t = echarts.getInstanceByDom(trend) || echarts.init(trend, null, { renderer: "canvas" });
    t.setOption({
      animation: false,
      // On a phone the legend wraps onto a second line rather than hiding names behind a pager;
      // the plot starts below it, with room for the top axis label (issue 17: legends never
      // overlap axes on a phone).
      legend: { top: 0, type: phone ? "plain" : "scroll", itemGap: phone ? 8 : 10 },
      grid: { left: 8, right: 8, top: phone ? 72 : 40, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: values.months },
      yAxis: [
        { type: "value", minInterval: 1, axisLabel: { formatter: count } },
        { type: "value", axisLabel: { formatter: function (v) { return phone ? shortRupiah(v) : rupiah(v); } } }
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
      s.data.forEach(function (point) {
        if (point[1] !== null) { cells.push([point[0], row, point[1], point[2], point[3]]); }
      });
    });
    var ages = [];
    for (var a = 0; a <= 12; a++) { ages.push(String(a)); }
    c.setOption({
      animation: false,
      // Below the plot: the month-of-age labels, the axis name, then the colour scale.
      grid: { left: 8, right: 8, top: 8, bottom: 96, containLabel: true },
      tooltip: { formatter: function (p) {
        return values.cohorts[p.value[1]].name + " · " + names.age + " " + p.value[0] + ": " + percent(p.value[2])
          + " (" + count(p.value[3]) + "/" + count(p.value[4]) + ")";
      } },
      xAxis: { type: "category", data: ages, name: names.age, nameLocation: "middle", nameGap: 24, splitArea: { show: true } },
      yAxis: { type: "category", data: values.cohorts.map(function (s) { return s.name; }), inverse: true, splitArea: { show: true } },
      // dimension 2: the percent (each cell also carries its part and base for the tooltip).
      visualMap: { min: 0, max: 100, dimension: 2, calculable: false, orient: "horizontal", left: "center",
        bottom: 4, itemWidth: 14, itemHeight: phone ? 160 : 200, text: [percent(100), percent(0)], inRange: { color: ["#fef3c7", "#34d399", "#065f46"] },
        formatter: function (v) { return percent(v); } },
      series: [{ type: "heatmap", data: cells,
        label: { show: !phone, formatter: function (p) { return Math.round(p.value[2]); }, fontSize: 10 } }]
    }, true);
    // A click on a cell opens the cohort's episodes still active at that month end: as many
    // records as the cell's part (the count in its tooltip).
    c.off("click");
    c.on("click", function (p) {
      var cohortMonth = values.cohort_codes[p.value[1]];
      if (!cohortMonth || !values.records) { return; }
      var index = Number(cohortMonth.slice(0, 4)) * 12 + Number(cohortMonth.slice(5, 7)) - 1 + Number(p.value[0]);
      var month = Math.floor(index / 12) + "-" + String(index % 12 + 1).padStart(2, "0");
      window.location.href = values.records + "&kpi=retained&cohort=" + encodeURIComponent(cohortMonth)
        + "&month=" + encodeURIComponent(month);
    });
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
