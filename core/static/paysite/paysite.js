/* Small progressive enhancements. Every page works without this file; no inline scripts anywhere
   (so a Content-Security-Policy without 'unsafe-inline' holds). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The mobile menu: open in the HTML (so it works without JavaScript), folded behind the burger here.
  document.addEventListener("DOMContentLoaded", function () {
    var burger = document.querySelector("[data-menu-toggle]");
    var menu = burger && document.getElementById(burger.getAttribute("aria-controls"));
    if (!menu) return;
    var set = function (open) {
      menu.classList.toggle("is-active", open);
      burger.classList.toggle("is-active", open);
      burger.setAttribute("aria-expanded", open ? "true" : "false");
    };
    set(false);
    burger.addEventListener("click", function () { set(!menu.classList.contains("is-active")); });
  });

  // <select data-autosubmit>: submit its form on change (the merchant switcher).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });

  // <button data-copy="#element-id">: copy the element's text (API key secrets, webhook secrets).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = (source.value !== undefined ? source.value : source.textContent).trim();
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      button.classList.add("is-success");
      setTimeout(function () { button.textContent = label; button.classList.remove("is-success"); }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
    }
  });

  // Notifications: a close button.
  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest(".notification > .delete");
    if (close) close.parentNode.remove();
  });

  // After an htmx swap that replaced the element the user acted on (a paging link, an action button),
  // move focus to the swapped region's marked heading so keyboard and screen-reader users land on the
  // result. When the trigger is still on the page (typing in a filter field), focus stays where it is.
  document.addEventListener("htmx:afterSwap", function (event) {
    var trigger = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (trigger && document.body.contains(trigger)) return;
    var focus = event.detail.target && document.querySelector("[data-focus-after-swap]");
    if (focus) focus.focus({ preventScroll: false });
  });
})();
