/* The merchant's offer form: show only the amount fields the chosen kind of offer uses
   (each wrapper lists its kinds in data-kinds). Without JavaScript every field shows, with
   help text saying which kind uses it, and the server ignores the others. */
(function () {
  "use strict";
  var form = document.querySelector(".offer-form");
  var kind = form && form.querySelector("select[name=kind]");
  if (!kind) { return; }
  var groups = form.querySelectorAll("[data-kinds]");
  function update() {
    for (var i = 0; i < groups.length; i++) {
      groups[i].hidden = groups[i].getAttribute("data-kinds").split(" ").indexOf(kind.value) < 0;
    }
  }
  kind.addEventListener("change", update);
  update();
})();
