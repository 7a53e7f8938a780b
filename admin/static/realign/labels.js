// Live character count beside each commitment's short label (inputs marked .js-label).
(function () {
  "use strict";
  function update(input) {
    var counter = document.querySelector('.label-count[data-for="' + input.id + '"]');
    if (!counter) return;
    var limit = parseInt(input.getAttribute("maxlength"), 10) || 32;
    counter.textContent = Array.from(input.value).length + "/" + limit;
  }
  document.querySelectorAll("input.js-label").forEach(function (input) {
    update(input);
    input.addEventListener("input", function () { update(input); });
  });
})();
