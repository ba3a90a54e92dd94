// Site-wide behaviour without inline scripts (Content-Security-Policy: script-src 'self'):
// any element with a data-print attribute prints the page (the print stylesheet hides the rest).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });
})();
