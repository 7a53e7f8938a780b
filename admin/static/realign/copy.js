// "Copy number" buttons (.js-copy with data-copy): put the value on the clipboard and say so.
(function () {
  "use strict";
  document.querySelectorAll(".js-copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var value = button.getAttribute("data-copy");
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(value).then(done, function () { window.prompt("Copy:", value); });
      } else {
        window.prompt("Copy:", value);
      }
    });
  });
})();
