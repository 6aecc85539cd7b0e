// blindpack administrators' console: the little the pages need beyond
// HTML. Served as a file: the Content-Security-Policy runs no inline script.
(function () {
  'use strict';

  // A form posts once: a double click must not queue two reprocesses.
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (form.dataset.sent) {
      e.preventDefault();
      return;
    }
    form.dataset.sent = '1';
    var buttons = form.querySelectorAll('button[type=submit]');
    setTimeout(function () {
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    }, 0);
  });

  // Accepting pages needs at least one page ticked.
  var override = document.getElementById('override-form');
  if (override) {
    override.addEventListener('submit', function (e) {
      if (!override.querySelector('input[name=page]:checked')) {
        e.preventDefault();
        delete override.dataset.sent;
        window.alert('请至少选择一页。 Select at least one page.');
      }
    });
  }

  // After an action the page follows its task, and reloads (without the
  // task in its address) once the task is done and its report written.
  var follow = document.getElementById('follow');
  if (follow) {
    var url = follow.getAttribute('data-poll');
    var done = follow.getAttribute('data-done');
    var shown = follow.querySelector('.task-state');
    var tries = 0;
    var tick = function () {
      tries++;
      fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: { 'Accept': 'application/json' } })
        .then(function (r) {
          // Signed out meanwhile (the session expired): the page itself
          // goes to the login form.
          if (r.status === 401) window.location.reload();
          return r.ok ? r.json() : null;
        })
        .then(function (s) {
          if (s && s.done) {
            window.location.replace(done);
            return;
          }
          if (s && s.task_state && shown) shown.textContent = '(' + s.task_state + ')';
          if (tries < 900) setTimeout(tick, 1000);
        }, function () {
          if (tries < 900) setTimeout(tick, 3000);
        });
    };
    setTimeout(tick, 800);
  }
})();
