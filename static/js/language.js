// The language chooser changes the language as soon as another one is picked; without
// scripts its button does it.
(function () {
  "use strict";

  document.querySelectorAll("form.language-chooser").forEach(function (form) {
    var button = form.querySelector("button");
    if (button) {
      button.hidden = true;
    }
    form.querySelector("select").addEventListener("change", function () {
      form.submit();
    });
  });
})();
