/* The idle-timeout warning. A session ends after `data-session-idle-seconds` (on <body>, signed-in
   pages only) without activity; a minute before, a banner says so, and its "Stay signed in" button
   renews the session. A page load or an htmx request starts the count again; a poll (`X-Paysite-Poll`)
   does not, as on the server. Before warning and at the end, the page asks the server how long is
   left (as a poll, so asking is not activity): another tab may have used the session meanwhile. When
   it has ended, the server names the sign-in page that leads back here, and the page goes there. */
(function () {
  "use strict";

  var WARN_SECONDS = 60;
  var POLL_HEADER = "X-Paysite-Poll";
  var LEFT_HEADER = "X-Paysite-Idle-Seconds-Left";

  document.addEventListener("DOMContentLoaded", function () {
    var body = document.body;
    var idle = parseInt(body.getAttribute("data-session-idle-seconds") || "", 10);
    var url = body.getAttribute("data-session-url");
    var banner = document.getElementById("session-warning");
    if (!(idle > 0) || !url || !banner) return;
    var stay = banner.querySelector("[data-session-stay]");
    var lead = Math.min(WARN_SECONDS, Math.floor(idle / 2));
    var timer = null;

    var csrfToken = function () {
      try { return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
    };

    if (lead !== WARN_SECONDS) {
      var when = banner.querySelector("[data-session-lead]");
      if (when) when.textContent = lead + " seconds";
    }

    // Shown: focus goes to the button only when nothing else has it (never away from a field being
    // typed in), and comes back to the page when the banner goes.
    var show = function (visible) {
      if (visible === !banner.hidden) return;
      var active = document.activeElement;
      banner.hidden = !visible;
      if (visible && (!active || active === body)) stay.focus();
      if (!visible && banner.contains(active)) document.getElementById("content").focus({ preventScroll: true });
    };

    var schedule = function (seconds, then) {
      clearTimeout(timer);
      timer = setTimeout(then, Math.max(0, seconds) * 1000);
    };

    // `left`: seconds the session has without activity from now.
    var count = function (left) {
      if (left > lead) {
        show(false);
        schedule(left - lead, check);
      } else {
        show(true);
        schedule(left + 1, check); // one second late: the server has ended it by then
      }
    };

    var ask = function (method) {
      var headers = { "HX-Current-URL": window.location.href };
      if (method === "GET") headers[POLL_HEADER] = "1";
      else headers["X-CSRFToken"] = csrfToken();
      var sent = { method: method, headers: headers, credentials: "same-origin", cache: "no-store", redirect: "manual" };
      return fetch(url, sent).then(function (response) {
        var signIn = response.headers.get("HX-Redirect");
        var left = parseInt(response.headers.get(LEFT_HEADER) || "", 10);
        if (response.status === 401 && signIn) {
          window.location.assign(signIn);
        } else if (response.ok && !isNaN(left)) {
          count(left);
        } else {
          // Sent elsewhere first (two-factor verification): this page's server-side checks take over.
          clearTimeout(timer);
        }
      });
    };

    var check = function () {
      ask("GET").catch(function () { schedule(5, check); }); // offline: ask again shortly
    };

    stay.addEventListener("click", function () {
      stay.classList.add("is-loading");
      ask("POST")
        .catch(function () { schedule(5, check); })
        .then(function () { stay.classList.remove("is-loading"); });
    });

    // Any htmx request that reached the server and was not a poll counted as activity there.
    document.addEventListener("htmx:afterRequest", function (event) {
      var detail = event.detail || {};
      var headers = (detail.requestConfig && detail.requestConfig.headers) || {};
      if (headers[POLL_HEADER] === "1" || !detail.xhr || detail.xhr.status === 0) return;
      if (detail.xhr.getResponseHeader("HX-Redirect")) return; // leaving for the sign-in page
      count(idle);
    });

    count(idle);
  });
})();
