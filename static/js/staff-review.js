// Keyboard shortcuts on the review page: A approve, R reject reason, N skip, Q back to queue.
// Ignored while typing in a field, so a reason can contain these letters.
(function () {
  "use strict";
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var t = ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) {
      if (ev.key === "Escape") { t.blur(); }
      return;
    }
    var key = (ev.key || "").toLowerCase();
    var el;
    if (key === "a") {
      el = document.getElementById("approve-form");
      if (el) { ev.preventDefault(); el.requestSubmit ? el.requestSubmit() : el.submit(); }
    } else if (key === "r") {
      el = document.getElementById("reason");
      if (el) { ev.preventDefault(); el.focus(); }
    } else if (key === "n" || key === "j") {
      el = document.getElementById("next-link");
      if (el) { ev.preventDefault(); window.location.href = el.href; }
    } else if (key === "q") {
      el = document.getElementById("queue-link");
      if (el) { ev.preventDefault(); window.location.href = el.href; }
    }
  });
})();

// Zoom a licence image in place: a click toggles between fitting the column and 220 % width
// (the surrounding box scrolls), so staff read the small print beside the entered data.
(function () {
  "use strict";
  var buttons = document.querySelectorAll(".licence-zoom");
  Array.prototype.forEach.call(buttons, function (btn) {
    btn.addEventListener("click", function () {
      var on = btn.classList.toggle("zoomed");
      btn.setAttribute("aria-pressed", on ? "true" : "false");
    });
  });
})();
