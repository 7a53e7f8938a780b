// Close forms: choosing an outcome puts its standard closing text in the message box, to
// send as it is or edit. Text the facilitator typed themselves is never replaced.
(function () {
  "use strict";
  document.querySelectorAll("form.js-closing").forEach(function (form) {
    var area = form.querySelector("textarea.js-segments");
    if (!area) return;
    var standard = Array.from(form.querySelectorAll("input[name=outcome]")).map(function (r) {
      return r.dataset.standard || "";
    });
    form.querySelectorAll("input[name=outcome]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        var current = area.value.trim();
        if (current === "" || standard.indexOf(current) !== -1) {
          area.value = radio.dataset.standard || "";
          area.dispatchEvent(new Event("input"));
        }
      });
    });
  });
})();
