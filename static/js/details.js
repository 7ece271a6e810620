// The run's log keeps the newest line in view while the reader is at the bottom,
// and keeps the reader's place when earlier lines are loaded above.
(function () {
  "use strict";

  function logOf(element) {
    return element && element.closest ? element.closest("#log") : null;
  }

  function atBottom(log) {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 24;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var log = document.getElementById("log");
    if (log) {
      log.scrollTop = log.scrollHeight;
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var log = logOf(event.detail.target);
    if (log) {
      log.dataset.pinned = atBottom(log) ? "yes" : "no";
      log.dataset.height = String(log.scrollHeight);
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var log = document.getElementById("log");
    if (!log || !log.dataset.height) {
      return;
    }
    var grown = log.scrollHeight - Number(log.dataset.height);
    if (event.detail.requestConfig && /[?&]before=/.test(event.detail.requestConfig.path)) {
      log.scrollTop += grown;
    } else if (log.dataset.pinned === "yes") {
      log.scrollTop = log.scrollHeight;
    }
    delete log.dataset.height;
  });
})();
