// Trust tools: print button on certificate pages, select-all on embed code boxes.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (btn) {
    btn.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("textarea.embed-code").forEach(function (box) {
    box.addEventListener("focus", function () { box.select(); });
  });
})();
