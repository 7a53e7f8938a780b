// Confirming a CSV import: post the form with fetch, poll the progress key, fill the bar.
// A static file (the admin's CSP allows no inline script); without it the form posts normally.
(function () {
  'use strict';
  var form = document.getElementById('import-confirm');
  if (!form || !window.fetch) { return; }
  var box = document.getElementById('import-progress');
  var bar = document.getElementById('import-bar');
  var status = document.getElementById('import-status');
  var button = document.getElementById('confirm-import');
  var timer = null;

  function poll() {
    fetch(form.dataset.progressUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p || !p.total) { return; }
        bar.max = p.total;
        bar.value = p.done;
        status.textContent = p.done + ' of ' + p.total + ' checked and enrolled…';
      })
      .catch(function () {});
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    button.disabled = true;
    box.hidden = false;
    timer = window.setInterval(poll, 250);
    fetch(form.action, {
      method: 'POST',
      body: new FormData(form),
      credentials: 'same-origin',
      headers: { Accept: 'application/json' }
    })
      .then(function (r) { return r.json(); })
      .then(function (result) {
        window.clearInterval(timer);
        if (result.ok) { bar.value = bar.max; }
        status.textContent = result.message;
        status.className = result.ok ? 'text-success' : 'text-danger';
        window.setTimeout(function () { window.location.assign(result.redirect); }, result.ok ? 800 : 2500);
      })
      .catch(function () {
        window.clearInterval(timer);
        status.textContent = 'The import could not be confirmed; please reload the list to see whether it ran.';
        status.className = 'text-danger';
      });
  });
})();
