// The program form shows only the cadence fields the chosen kind uses (the server ignores
// the others): "On chosen weekdays" shows the weekdays, "Every N days" the N.
(function () {
  "use strict";
  var kind = document.getElementById("cadence_kind");
  if (!kind) { return; }
  function update() {
    document.querySelectorAll("[data-cadence-only]").forEach(function (group) {
      group.hidden = group.getAttribute("data-cadence-only") !== kind.value;
    });
  }
  kind.addEventListener("change", update);
  update();
})();
