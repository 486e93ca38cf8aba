// Draws the statistics charts with Apache ECharts (static/vendor/echarts), SVG renderer.
// Data comes from <script type="application/json" id="stats-data"> (CSP: no inline script).
// Each table: {name, title, columns, rows, chart, series}; the first column is the category;
// `series` names the columns to draw (default: every numeric column).
// Phones (a chart narrower than 480 px) get shorter, truncated axis labels, hidden overlapping
// labels and a scrolling legend, so no two labels are drawn over each other; charts are rebuilt
// when the width crosses that line.
(function () {
  "use strict";
  var holder = document.getElementById("stats-data");
  if (!holder || typeof window.echarts === "undefined") { return; }
  var tables = JSON.parse(holder.textContent || "[]");
  var palette = ["#c8102e", "#b07a1c", "#0b5cad", "#1a7f37", "#7a4cc2", "#b35900", "#5f6b76"];
  var font = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  var NARROW = 480;

  function numericColumns(t) {
    if (t.series && t.series.length) { return t.series; }
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
  // On a phone the legend goes under the chart and wraps onto as many rows as it needs (a scrolling
  // legend hides items under its pager, and a legend on top collides with the axis names).
  function legend(narrow) {
    return narrow ? { bottom: 0, type: "plain", itemGap: 8, itemWidth: 14, textStyle: { fontSize: 10 } } : { top: 0 };
  }
  function base(narrow) {
    return { color: palette, textStyle: { fontFamily: font, fontSize: narrow ? 11 : 12 }, tooltip: { trigger: "axis", confine: true },
             legend: legend(narrow),
             grid: narrow ? { left: 8, right: 24, top: 12, bottom: 72, containLabel: true }
                          : { left: 8, right: 16, top: 36, bottom: 8, containLabel: true } };
  }
  function categoryLabels(narrow, width) {
    return { interval: narrow ? "auto" : 0, hideOverlap: true, width: width, overflow: "truncate",
             fontSize: narrow ? 10 : 12 };
  }

  var builders = {
    gauge: function (t, narrow) {
      var pct = 0;
      t.rows.forEach(function (r) { if (r[0].indexOf("完成率") === 0) { pct = r[1]; } });
      return { textStyle: { fontFamily: font }, series: [{ type: "gauge", min: 0, max: 100,
        progress: { show: true, width: 16, itemStyle: { color: palette[0] } },
        axisLine: { lineStyle: { width: 16 } }, pointer: { show: false },
        axisLabel: { show: !narrow, distance: 22 }, splitLabel: { show: false },
        detail: { formatter: "{value}%", fontSize: narrow ? 22 : 28, offsetCenter: [0, "10%"] },
        title: { offsetCenter: [0, "45%"] }, data: [{ value: pct, name: "万家目标完成率" }] }] };
    },
    hbar: function (t, narrow) {
      var o = base(narrow), cols = numericColumns(t);
      var cats = column(t, 0).slice().reverse();
      o.yAxis = { type: "category", data: cats, axisLabel: { interval: 0, width: narrow ? 56 : 110, overflow: "truncate",
                  fontSize: narrow ? 10 : 12 } };
      o.xAxis = { type: "value", minInterval: 1, splitNumber: narrow ? 3 : 5, axisLabel: { hideOverlap: true } };
      o.series = cols.map(function (c) {
        return { name: t.columns[c], type: "bar", data: column(t, c).slice().reverse(),
                 label: { show: cols.length === 1 && !narrow, position: "right" }, labelLayout: { hideOverlap: true } };
      });
      return o;
    },
    bar: function (t, narrow) {
      if (narrow) { return builders.hbar(t, narrow); }  // rotated labels collide on a phone: bars go sideways
      var o = base(narrow), cols = numericColumns(t);
      o.xAxis = { type: "category", data: column(t, 0),
                  axisLabel: Object.assign(categoryLabels(narrow, narrow ? 48 : 90), { rotate: narrow ? 45 : 35 }) };
      o.yAxis = { type: "value", minInterval: 1, axisLabel: { hideOverlap: true } };
      o.series = cols.map(function (c) {
        return { name: t.columns[c], type: "bar", data: column(t, c),
                 label: { show: !narrow, position: "top" }, labelLayout: { hideOverlap: true } };
      });
      return o;
    },
    stack: function (t, narrow) {
      var o = base(narrow), cols = numericColumns(t);
      o.xAxis = { type: "category", data: column(t, 0), axisLabel: Object.assign(categoryLabels(narrow, narrow ? 48 : 90),
                  { rotate: narrow ? 45 : 0 }) };
      o.yAxis = { type: "value", minInterval: 1, axisLabel: { hideOverlap: true } };
      o.series = cols.map(function (c) { return { name: t.columns[c], type: "bar", stack: "all", data: column(t, c) }; });
      return o;
    },
    line: function (t, narrow) {
      var o = base(narrow), cols = numericColumns(t);
      // on a phone the first month must not sit under the y axis labels
      o.xAxis = { type: "category", data: column(t, 0), boundaryGap: narrow, axisLabel: categoryLabels(narrow, 60) };
      o.yAxis = { type: "value", minInterval: 1, axisLabel: { hideOverlap: true } };
      o.series = cols.map(function (c) {
        return { name: t.columns[c], type: "line", smooth: true, areaStyle: { opacity: 0.15 }, data: column(t, c),
                 connectNulls: false };
      });
      return o;
    },
    pie: function (t, narrow) {
      var cols = numericColumns(t);
      var radii = narrow ? [["0", "34%"], ["46%", "62%"]] : [["0", "38%"], ["52%", "72%"]];
      return { color: palette, textStyle: { fontFamily: font }, tooltip: { trigger: "item", confine: true },
        legend: legend(narrow),
        series: cols.slice(0, 2).map(function (c, i) {
          return { name: t.columns[c], type: "pie", radius: radii[i], top: narrow ? 0 : 24, bottom: narrow ? 48 : 0,
                   avoidLabelOverlap: true,
                   minShowLabelAngle: 10, labelLayout: { hideOverlap: true },
                   // a phone has no room beside the rings: the numbers go inside, the names in the legend
                   label: narrow ? { show: i === 1, position: "inside", formatter: "{c}", fontSize: 10, color: "#fff" }
                                 : { formatter: i === 0 ? "{b}\n{c}" : "{b} {c}", position: i === 0 ? "inner" : "outside" },
                   data: t.rows.map(function (r) { return { name: r[0], value: r[c] }; }) };
        }) };
    },
    weekly: function (t, narrow) {
      var o = base(narrow);
      o.xAxis = { type: "category", data: column(t, 0), axisLabel: categoryLabels(narrow, 48) };
      o.yAxis = [{ type: "value", name: narrow ? "" : "件", minInterval: 1, axisLabel: { hideOverlap: true } },
                 { type: "value", name: narrow ? "" : "小时", splitLine: { show: false }, axisLabel: { hideOverlap: true } }];
      o.series = [1, 2, 3].map(function (c) { return { name: t.columns[c], type: "bar", data: column(t, c) }; });
      o.series.push({ name: t.columns[4], type: "line", yAxisIndex: 1, connectNulls: true, data: column(t, 4) });
      return o;
    }
  };

  var drawn = [];
  tables.forEach(function (t) {
    var el = document.querySelector('[data-chart="' + t.name + '"]');
    var build = builders[t.chart];
    if (!el || !build) { return; }
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    var narrow = el.clientWidth < NARROW;
    chart.setOption(build(t, narrow));
    drawn.push({ chart: chart, el: el, table: t, build: build, narrow: narrow });
  });
  window.addEventListener("resize", function () {
    drawn.forEach(function (d) {
      var narrow = d.el.clientWidth < NARROW;
      if (narrow !== d.narrow) {
        d.narrow = narrow;
        d.chart.setOption(d.build(d.table, narrow), true);
      }
      d.chart.resize();
    });
  });
})();
