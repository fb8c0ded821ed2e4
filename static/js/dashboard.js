// Dashboard charts (templates/crm/dashboard/_chart.html). Each canvas[data-chart] names its
// kind and the json_script element holding its items ({label, value, url, ...}); colours come
// from the legend dots' CSS (app.css, dashboard section) so the chart and its legend agree.
// A click on a bar or a slice opens the list behind it.
(function () {
  if (typeof Chart === "undefined") return;
  var money = new Intl.NumberFormat("vi-VN");  // the shop's money is 1.500.000 ₫ in any language
  var short = new Intl.NumberFormat("vi-VN", { notation: "compact", maximumFractionDigits: 1 });
  var rootStyle = getComputedStyle(document.documentElement);

  function cssVar(name, fallback) { return rootStyle.getPropertyValue(name).trim() || fallback; }
  function formatMoney(v) { return money.format(v) + " ₫"; }

  function legendColors(canvas, count) {
    var dots = canvas.closest(".card").querySelectorAll("[data-chart-color]");
    var colors = [];
    for (var i = 0; i < count; i++) {
      var color = dots[i] ? getComputedStyle(dots[i]).backgroundColor : "";
      colors.push(color && color !== "rgba(0, 0, 0, 0)" ? color : cssVar("--tblr-gray-400", "#9ba9be"));
    }
    return colors;
  }

  function openOnClick(items) {
    return {
      onClick: function (event, elements) {
        var item = elements.length && items[elements[0].index];
        if (item && item.url) window.location.href = item.url;
      },
      onHover: function (event, elements) {
        event.native.target.style.cursor = elements.length ? "pointer" : "default";
      }
    };
  }

  var builders = {
    revenue: function (items, canvas) {
      var unit = canvas.dataset.chartUnit || "";
      return {
        type: "bar",
        data: {
          labels: items.map(function (i) { return i.label; }),
          datasets: [{ data: items.map(function (i) { return i.value; }),
                       backgroundColor: cssVar("--tblr-primary", "#066fd1"), borderRadius: 4,
                       maxBarThickness: 40 }]
        },
        options: {
          scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return short.format(v); } } },
                    x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 8 } } },
          plugins: { legend: { display: false },
                     tooltip: { callbacks: { label: function (c) {
                       return formatMoney(c.parsed.y) + " · " + money.format(items[c.dataIndex].orders) + " " + unit;
                     } } } }
        }
      };
    },
    sources: function (items, canvas) {
      return {
        type: "doughnut",
        data: {
          labels: items.map(function (i) { return i.label; }),
          datasets: [{ data: items.map(function (i) { return i.value; }),
                       backgroundColor: legendColors(canvas, items.length), borderWidth: 1 }]
        },
        options: { cutout: "62%", plugins: { legend: { display: false },
                   tooltip: { callbacks: { label: function (c) {
                     return " " + money.format(c.parsed) + " (" + items[c.dataIndex].share + "%)";
                   } } } } }
      };
    },
    funnel: function (items, canvas) {
      return {
        type: "bar",
        data: {
          labels: items.map(function (i) { return i.label; }),
          datasets: [{ data: items.map(function (i) { return i.value; }),
                       backgroundColor: legendColors(canvas, items.length), borderRadius: 4,
                       maxBarThickness: 28 }]
        },
        options: {
          indexAxis: "y",
          scales: { x: { beginAtZero: true, ticks: { precision: 0, callback: function (v) { return short.format(v); } } },
                    y: { grid: { display: false } } },
          plugins: { legend: { display: false },
                     tooltip: { callbacks: { label: function (c) {
                       return " " + money.format(c.parsed.x) + " (" + items[c.dataIndex].share + "%)";
                     } } } }
        }
      };
    }
  };

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chartData);
    var build = builders[canvas.dataset.chart];
    if (!source || !build || canvas.dataset.chartDrawn) return;
    var items = JSON.parse(source.textContent);
    var config = build(items, canvas);
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false },
                                   openOnClick(items), config.options);
    new Chart(canvas, config);
    canvas.dataset.chartDrawn = "1";
  }

  function start() {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = cssVar("--tblr-secondary", "#667382");
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
