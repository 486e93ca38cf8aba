// Draws the staff statistics charts with Apache ECharts (static/vendor/echarts).
// Data comes from <script type="application/json" id="stats-data"> (CSP: no inline script).
// Each table: {name, title, columns, rows, chart}; the first column is the category, numeric
// columns become series.
(function () {
  "use strict";
  var holder = document.getElementById("stats-data");
  if (!holder || typeof window.echarts === "undefined") { return; }
  var tables = JSON.parse(holder.textContent || "[]");
  var palette = ["#c8102e", "#d9a441", "#0b5cad", "#1a7f37", "#7a4cc2", "#b35900", "#5f6b76"];
  var font = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';

  function numericColumns(t) {
    var cols = [];
    for (var c = 1; c < t.columns.length; c++) {
      var ok = t.rows.length > 0;
      for (var r = 0; r < t.rows.length; r++) {
        var v = t.rows[r][c];
        if (v !== null && typeof v !== "number") { ok = false; break; }
      }
      if (ok) { cols.push(c); }
    }
    return cols;
  }
  function column(t, c) { return t.rows.map(function (r) { return r[c]; }); }
  function base() {
    return { color: palette, textStyle: { fontFamily: font }, tooltip: { trigger: "axis" },
             legend: { top: 0 }, grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true } };
  }

  var builders = {
    gauge: function (t) {
      var pct = 0;
      t.rows.forEach(function (r) { if (r[0].indexOf("完成率") === 0) { pct = r[1]; } });
      return { textStyle: { fontFamily: font }, series: [{ type: "gauge", min: 0, max: 100,
        progress: { show: true, width: 16, itemStyle: { color: palette[0] } },
        axisLine: { lineStyle: { width: 16 } }, pointer: { show: false },
        detail: { formatter: "{value}%", fontSize: 28, offsetCenter: [0, "10%"] },
        title: { offsetCenter: [0, "45%"] }, data: [{ value: pct, name: "万家目标完成率" }] }] };
    },
    hbar: function (t) {
      var o = base(), cols = numericColumns(t);
      var cats = column(t, 0).slice().reverse();
      o.yAxis = { type: "category", data: cats, axisLabel: { interval: 0 } };
      o.xAxis = { type: "value", minInterval: 1 };
      o.series = cols.map(function (c) {
        return { name: t.columns[c], type: "bar", data: column(t, c).slice().reverse(), label: { show: cols.length === 1, position: "right" } };
      });
      return o;
    },
    bar: function (t) {
      var o = base(), cols = numericColumns(t);
      o.xAxis = { type: "category", data: column(t, 0), axisLabel: { interval: 0, rotate: 35 } };
      o.yAxis = { type: "value", minInterval: 1 };
      o.series = cols.map(function (c) { return { name: t.columns[c], type: "bar", data: column(t, c), label: { show: true, position: "top" } }; });
      return o;
    },
    stack: function (t) {
      var o = base(), cols = numericColumns(t);
      o.xAxis = { type: "category", data: column(t, 0), axisLabel: { interval: 0 } };
      o.yAxis = { type: "value", minInterval: 1 };
      o.series = cols.map(function (c) { return { name: t.columns[c], type: "bar", stack: "all", data: column(t, c) }; });
      return o;
    },
    line: function (t) {
      var o = base(), cols = numericColumns(t);
      o.xAxis = { type: "category", data: column(t, 0), boundaryGap: false };
      o.yAxis = { type: "value", minInterval: 1 };
      o.series = cols.map(function (c) { return { name: t.columns[c], type: "line", smooth: true, areaStyle: { opacity: 0.15 }, data: column(t, c) }; });
      return o;
    },
    pie: function (t) {
      var cols = numericColumns(t);
      var radii = [["0", "38%"], ["52%", "72%"]];
      return { color: palette, textStyle: { fontFamily: font }, tooltip: { trigger: "item" }, legend: { top: 0 },
        series: cols.slice(0, 2).map(function (c, i) {
          return { name: t.columns[c], type: "pie", radius: radii[i], top: 24,
                   label: { formatter: i === 0 ? "{b}\n{c}" : "{b} {c}", position: i === 0 ? "inner" : "outside" },
                   data: t.rows.map(function (r) { return { name: r[0], value: r[c] }; }) };
        }) };
    },
    weekly: function (t) {
      var o = base();
      o.xAxis = { type: "category", data: column(t, 0) };
      o.yAxis = [{ type: "value", name: "件", minInterval: 1 }, { type: "value", name: "小时", splitLine: { show: false } }];
      o.series = [1, 2, 3].map(function (c) { return { name: t.columns[c], type: "bar", data: column(t, c) }; });
      o.series.push({ name: t.columns[4], type: "line", yAxisIndex: 1, connectNulls: true, data: column(t, 4) });
      return o;
    }
  };

  var charts = [];
  tables.forEach(function (t) {
    var el = document.querySelector('[data-chart="' + t.name + '"]');
    var build = builders[t.chart];
    if (!el || !build) { return; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(build(t));
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
