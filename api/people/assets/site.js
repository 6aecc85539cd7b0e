// blindpack: the little people's pages need beyond HTML. Served as a
// file: the Content-Security-Policy runs no inline script. Every page
// works without it; it only prevents double posts, checks one form
// before it is sent, and follows a queued task.
(function () {
  'use strict';

  // Accepting pages needs at least one page ticked. Registered before the
  // guard below and on the form itself, so it runs first; the guard then
  // sees the submission cancelled and leaves the form usable.
  var override = document.getElementById('override-form');
  if (override) {
    override.addEventListener('submit', function (e) {
      if (!override.querySelector('input[name=page]:checked')) {
        e.preventDefault();
        window.alert('请至少选择一页。 Select at least one page.');
        var first = override.querySelector('input[name=page]');
        if (first) first.focus();
      }
    });
  }

  // A form posts once: a double click must not queue two reprocesses. A
  // submission some other handler cancelled (the check above) did not
  // happen, so it neither marks the form sent nor disables its buttons.
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (e.defaultPrevented) return;
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
  // Back from the next page (the browser's page cache), forms are usable
  // again.
  window.addEventListener('pageshow', function (e) {
    if (!e.persisted) return;
    var forms = document.querySelectorAll('form[data-sent]');
    for (var i = 0; i < forms.length; i++) {
      delete forms[i].dataset.sent;
      var buttons = forms[i].querySelectorAll('button[type=submit]');
      for (var j = 0; j < buttons.length; j++) buttons[j].disabled = false;
    }
  });

  // While a task runs, the page follows it, and reloads (without the
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
          // goes to the sign-in form.
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
