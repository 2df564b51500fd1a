/* Scorecard trend charts: one small Chart.js line per standard, drawn from the JSON that
   the page embeds beside each canvas (json_script). Points are coloured by outcome; the
   dashed lines are the target and stretch of the rule each period was judged by. Words come
   translated from the page (data-label-* on .standard-grid), numbers follow <html lang>. */
(function () {
  "use strict";

  var OUTCOME_COLOURS = {
    exceeded: "#0f6b43",
    met: "#2fa56a",
    missed: "#c0392b",
    insufficient_data: "#a3abb9",
  };
  var LOCALE = document.documentElement.lang || "en";
  var NUMBER_FORMATS = {};

  function label(figure, name) {
    var grid = figure.closest("[data-label-met]");
    return (grid && grid.getAttribute("data-label-" + name)) || name;
  }
  var LINE = "#1f5fbf";
  var TARGET = "#5b6678";
  var STRETCH = "#1e8e5a";

  /* At most `decimals` places, trailing zeros dropped, grouped by thousands: 1.234,5 in pt-BR. */
  function trimmed(value, decimals) {
    if (!NUMBER_FORMATS[decimals]) {
      NUMBER_FORMATS[decimals] = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: decimals });
    }
    return NUMBER_FORMATS[decimals].format(value);
  }

  function twoDigits(number) {
    return (number < 10 ? "0" : "") + number;
  }

  function duration(seconds) {
    if (seconds < 10) return trimmed(seconds, 1) + " s";
    var whole = Math.round(seconds);
    if (whole < 60) return whole + " s";
    if (whole < 3600) return Math.floor(whole / 60) + " min " + twoDigits(whole % 60) + " s";
    return trimmed(Math.floor(whole / 3600), 0) + " h " + twoDigits(Math.floor((whole % 3600) / 60)) + " min";
  }

  /* The same forms as the metric_value template filter. */
  function formatValue(value, unit) {
    if (value === null || value === undefined) return "—";
    switch (unit) {
      case "%":
        return trimmed(value, 1) + " %";
      case "s":
        return duration(value);
      case "pts":
        return (value > 0 ? "+" : value < 0 ? "-" : "") + trimmed(Math.abs(value), 1);
      case "contacts":
        return trimmed(Math.round(value), 0);
      default:
        return trimmed(value, Math.abs(value) < 10 ? 2 : 1);
    }
  }

  function draw(figure) {
    if (figure.dataset.drawn || typeof window.Chart === "undefined") return;
    var source = figure.querySelector('script[type="application/json"]');
    var canvas = figure.querySelector("canvas");
    if (!source || !canvas) return;
    figure.dataset.drawn = "true";
    var data = JSON.parse(source.textContent);
    var points = data.points;
    var pick = function (name) {
      return points.map(function (point) {
        return point[name];
      });
    };
    var colours = points.map(function (point) {
      return OUTCOME_COLOURS[point.outcome] || "#c8cfdb";
    });
    var hasStretch = points.some(function (point) {
      return point.stretch !== null;
    });
    var last = points.length - 1;
    var belowHundred = function (point) {
      return [point.value, point.target, point.stretch].every(function (value) {
        return value === null || value <= 100;
      });
    };

    var datasets = [
      {
        label: data.name,
        data: pick("value"),
        borderColor: LINE,
        backgroundColor: "rgba(31, 95, 191, 0.08)",
        fill: "origin",
        borderWidth: 2,
        cubicInterpolationMode: "monotone",
        clip: 8,
        pointBackgroundColor: colours,
        pointBorderColor: "#fff",
        pointBorderWidth: 1.5,
        pointRadius: points.map(function (point, index) {
          return index === last ? 6 : 4.5;
        }),
        pointHoverRadius: 7,
        order: 1,
      },
      {
        label: label(figure, "target"),
        data: pick("target"),
        borderColor: TARGET,
        borderDash: [6, 4],
        borderWidth: 1.5,
        pointRadius: 0,
        pointHitRadius: 0,
        stepped: "middle",
        fill: false,
        order: 2,
      },
    ];
    if (hasStretch) {
      datasets.push({
        label: label(figure, "stretch"),
        data: pick("stretch"),
        borderColor: STRETCH,
        borderDash: [2, 3],
        borderWidth: 1.5,
        pointRadius: 0,
        pointHitRadius: 0,
        stepped: "middle",
        fill: false,
        order: 3,
      });
    }

    new window.Chart(canvas, {
      type: "line",
      data: { labels: pick("label"), datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        layout: { padding: { top: 4, right: 6 } },
        scales: {
          x: {
            grid: { display: false },
            ticks: { color: "#5b6678", font: { size: 11 }, maxRotation: 0, autoSkipPadding: 8 },
          },
          y: {
            grace: "8%",
            max: data.unit === "%" && points.every(belowHundred) ? 100 : undefined,
            border: { display: false },
            grid: { color: "#eef1f5" },
            ticks: {
              color: "#5b6678",
              font: { size: 11 },
              maxTicksLimit: 5,
              callback: function (value) {
                return formatValue(value, data.unit);
              },
            },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            backgroundColor: "#14213d",
            padding: 10,
            displayColors: false,
            callbacks: {
              title: function (items) {
                return points[items[0].dataIndex].title;
              },
              label: function (item) {
                var point = points[item.dataIndex];
                if (item.datasetIndex !== 0) {
                  return item.dataset.label + ": " + formatValue(item.parsed.y, data.unit);
                }
                if (point.outcome === null) return label(figure, "not-evaluated");
                return (
                  formatValue(point.value, data.unit) +
                  " · " +
                  label(figure, point.outcome) +
                  " · " +
                  label(figure, "sample").toLowerCase() +
                  " " +
                  trimmed(point.sample, 0)
                );
              },
            },
          },
        },
        onHover: function (event, elements) {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        },
        onClick: function (event, elements) {
          if (elements.length) window.location.href = points[elements[0].index].url;
        },
      },
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-trend]").forEach(draw);
  }

  drawAll(document);
  if (window.htmx) window.htmx.onLoad(drawAll);
})();
