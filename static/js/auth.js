/* Account pages: a "显示/隐藏" toggle for password fields marked data-reveal (progressive
   enhancement: without JavaScript the fields are plain password inputs). */
(function () {
  "use strict";
  document.querySelectorAll("input[data-reveal]").forEach(function (input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "reveal-toggle";
    button.textContent = "显示";
    button.setAttribute("aria-label", "显示密码");
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.textContent = show ? "隐藏" : "显示";
      button.setAttribute("aria-label", show ? "隐藏密码" : "显示密码");
      button.setAttribute("aria-pressed", show ? "true" : "false");
    });
    var wrap = document.createElement("div");
    wrap.className = "reveal-wrap";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    wrap.appendChild(button);
  });
})();
