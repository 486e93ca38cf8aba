/* 网购节 countdowns. The page shows the start or end as a plain date and time (China time);
   with JavaScript each [data-countdown] element instead counts down to that instant, once a
   second, and says data-done when it is reached (the page itself is not reloaded). */
(function () {
  "use strict";
  var nodes = document.querySelectorAll("[data-countdown]");
  if (!nodes.length) { return; }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function text(ms) {
    var s = Math.floor(ms / 1000), days = Math.floor(s / 86400);
    var rest = pad(Math.floor(s % 86400 / 3600)) + ":" + pad(Math.floor(s % 3600 / 60)) + ":" + pad(s % 60);
    return (days > 0 ? days + " 天 " : "") + rest;
  }
  var items = [];
  for (var i = 0; i < nodes.length; i++) {
    var target = Date.parse(nodes[i].getAttribute("data-countdown"));
    if (isNaN(target)) { continue; }
    items.push({ el: nodes[i], target: target, label: nodes[i].querySelector(".countdown-label"),
                 value: nodes[i].querySelector(".countdown-value"), tz: nodes[i].querySelector(".countdown-tz") });
  }
  function tick() {
    var now = Date.now();
    items.forEach(function (it) {
      var left = it.target - now;
      if (it.tz) { it.tz.hidden = true; }
      if (left <= 0) {
        it.label.textContent = it.el.getAttribute("data-done");
        it.value.textContent = "";
        it.el.classList.add("countdown-done");
      } else {
        it.label.textContent = it.el.getAttribute("data-label");
        it.value.textContent = text(left);
      }
    });
  }
  tick();
  window.setInterval(tick, 1000);
})();
