/* Browse pages: the filter panel is a <details> that starts closed so phones see results first;
   on wide screens, where it sits in a sidebar, open it. Without JavaScript it opens on tap. */
(function () {
  "use strict";
  if (!window.matchMedia || !window.matchMedia("(min-width: 960px)").matches) { return; }
  var panels = document.querySelectorAll("details[data-open-wide]");
  for (var i = 0; i < panels.length; i++) { panels[i].open = true; }
})();
