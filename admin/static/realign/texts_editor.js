// The program texts editor: Customise / Back to default, the live preview (asked of the
// server, which fills texts in as the sender does), "Text me this", and the sticky save
// bar's count of unsaved changes. Words shown come from the page (data-* attributes).
(function () {
  "use strict";
  var form = document.getElementById("texts-form");
  if (!form) return;
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var nonce = document.getElementById("test-nonce");
  var person = form.querySelector("input[name=participant]");
  var counter = document.getElementById("unsaved-count");
  var bar = document.getElementById("texts-savebar");
  var timers = {};

  function boxOf(fid) { return document.getElementById("box-" + fid); }
  function areaOf(fid) { return document.getElementById(fid); }

  function post(url, fields) {
    var data = new FormData();
    data.append("csrf_token", csrf);
    if (person) data.append("participant", person.value);
    Object.keys(fields).forEach(function (k) { data.append(k, fields[k]); });
    return fetch(url, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); });
  }

  function show(fid, answer) {
    var box = boxOf(fid);
    var preview = document.getElementById("preview-" + fid);
    preview.textContent = answer.text || form.dataset.cannotPreview;
    var problems = document.getElementById("problems-" + fid);
    problems.textContent = "";
    (answer.problems || []).forEach(function (p) {
      var line = document.createElement("div");
      line.className = "invalid-feedback d-block text-error";
      line.textContent = p;
      problems.appendChild(line);
    });
    areaOf(fid).classList.toggle("is-invalid", (answer.problems || []).length > 0);
    box.querySelector(".state-customised").classList.toggle("d-none", !answer.customised);
    box.querySelector(".state-standard").classList.toggle("d-none", !!answer.customised);
  }

  function refresh(fid) {
    var box = boxOf(fid);
    clearTimeout(timers[fid]);
    timers[fid] = setTimeout(function () {
      post(form.dataset.previewUrl, { key: box.dataset.key, lang: box.dataset.lang, text: areaOf(fid).value })
        .then(function (res) { if (res.ok) show(fid, res.body); })
        .catch(function () { /* the next keystroke asks again */ });
    }, 250);
  }

  function countUnsaved() {
    var n = 0;
    form.querySelectorAll("textarea.js-segments").forEach(function (area) {
      if (area.value !== area.defaultValue) n += 1;
    });
    if (!counter) return;
    counter.textContent = n ? form.dataset.unsavedSome.replace("{n}", String(n)) : form.dataset.unsavedNone;
    bar.classList.toggle("dirty", n > 0);
  }

  function setOpen(fid, open) {
    var box = boxOf(fid);
    box.classList.toggle("is-open", open);
    box.querySelector(".text-editor").classList.toggle("d-none", !open);
    box.querySelector(".standard-text").classList.toggle("d-none", open);
    box.querySelector(".js-customise").classList.toggle("d-none", open);
    box.querySelector(".js-reset").classList.toggle("d-none", !open);
  }

  function changed(area) {
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  form.addEventListener("input", function (e) {
    if (!e.target.matches("textarea.js-segments")) return;
    refresh(e.target.id);
    countUnsaved();
  });

  form.addEventListener("click", function (e) {
    var button = e.target.closest("button[data-for]");
    if (!button) return;
    var fid = button.dataset.for;
    var area = areaOf(fid);
    if (button.classList.contains("js-customise")) {
      if (!area.value.trim()) area.value = area.dataset.default;
      setOpen(fid, true);
      changed(area);
      area.focus();
    } else if (button.classList.contains("js-reset")) {
      area.value = "";
      setOpen(fid, false);
      changed(area);
    } else if (button.classList.contains("js-text-me")) {
      var box = boxOf(fid);
      var result = document.getElementById("test-" + fid);
      result.className = "small test-result ml-1";
      result.textContent = form.dataset.sending;
      button.disabled = true;
      post(form.dataset.testUrl, {
        key: box.dataset.key, lang: box.dataset.lang, text: area.value, nonce: nonce.value,
      }).then(function (res) {
        result.textContent = res.body.message || "";
        result.classList.add(res.ok ? "ok" : "refused");
        if (res.body.nonce) nonce.value = res.body.nonce; // the next click is a new text
        show(fid, res.body);
      }).catch(function () {
        result.textContent = "";
      }).then(function () { button.disabled = false; });
    }
  });

  countUnsaved();
})();
