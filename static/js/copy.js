// Copy buttons: <button class="copy-button" data-copy="#element-id" data-copied="已复制"
// data-copy-failed="…">.
// Copies the target's text (Clipboard API, or a selection + execCommand on older browsers) and
// says so on the button for two seconds. CSP-clean: no inline handlers.
(function () {
  "use strict";
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var label = button.textContent;
    button.addEventListener("click", function () {
      var target = document.querySelector(button.getAttribute("data-copy"));
      if (!target) { return; }
      copyText(target.textContent.trim()).then(function () {
        button.textContent = button.getAttribute("data-copied") || "已复制";
      }, function () {
        button.textContent = button.getAttribute("data-copy-failed") || "请长按编号手动复制";
      }).then(function () {
        window.setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
  });
})();
