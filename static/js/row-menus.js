// A list that refreshes itself waits while one of its row menus is open, so that the menu
// does not close under the pointer; and an open menu closes when the person clicks elsewhere.
(function () {
  "use strict";

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail.elt;
    if (source && source.querySelector && source.querySelector("details.row-menu[open]")) {
      event.preventDefault();
    }
  });

  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.row-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) {
        menu.open = false;
      }
    });
  });
})();
