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

  // Filters fold behind a button on small screens only; the CSS shows them on wider ones through
  // ::details-content, and a browser without it gets the drawer opened here.
  document.addEventListener("DOMContentLoaded", function () {
    var supported = window.CSS && CSS.supports && CSS.supports("selector(::details-content)");
    if (supported || !window.matchMedia("(min-width: 769px)").matches) return;
    document.querySelectorAll("details.filter-drawer").forEach(function (drawer) { drawer.open = true; });
  });

  // Navbar menus (<details data-nav-menu>): one open at a time, closed by Escape or a click elsewhere.
  // The merchant switcher focuses its search when it opens; the arrow keys move through the matches.
  var navMenus = function () { return document.querySelectorAll("details[data-nav-menu]"); };
  document.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (!menu.matches || !menu.matches("details[data-nav-menu]") || !menu.open) return;
    navMenus().forEach(function (other) { if (other !== menu) other.open = false; });
    var search = menu.querySelector("[data-merchant-search]");
    if (search) search.focus();
  }, true);
  document.addEventListener("click", function (event) {
    navMenus().forEach(function (menu) { if (menu.open && !menu.contains(event.target)) menu.open = false; });
  });
  document.addEventListener("keydown", function (event) {
    var menu = event.target.closest && event.target.closest("details[data-nav-menu]");
    if (!menu) return;
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    var items = Array.prototype.slice.call(menu.querySelectorAll("[data-merchant-search], .merchant-result, .nav-menu-panel a"));
    var at = items.indexOf(event.target);
    if (at < 0 || !items.length) return;
    event.preventDefault();
    var next = event.key === "ArrowDown" ? Math.min(at + 1, items.length - 1) : Math.max(at - 1, 0);
    items[next].focus();
  });

  // <select data-autosubmit>: submit its form on change (the merchant switcher).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });

  // The payment filters' currency: the amount labels say which currency the amounts are in.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-default-currency]")) return;
    var code = select.value ? select.value.toUpperCase() : select.getAttribute("data-default-currency");
    document.querySelectorAll("[data-amount-currency]").forEach(function (span) { span.textContent = code; });
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

  // The theme toggle (navbar): saved with the person's account, applied at once without a reload.
  // "auto" removes Bulma's data-theme so the OS's prefers-color-scheme decides.
  var THEME_LABELS = { auto: "Theme: auto", light: "Theme: light", dark: "Theme: dark" };
  var THEME_ICONS = { auto: "\u25D0", light: "\u2600", dark: "\u263E" };
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-theme-toggle]") || !window.fetch) return;
    event.preventDefault();
    fetch(form.action, { method: "POST", body: new FormData(form), headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(function (data) {
        var root = document.documentElement;
        if (data.theme === "auto") root.removeAttribute("data-theme"); else root.setAttribute("data-theme", data.theme);
        var scheme = document.querySelector('meta[name="color-scheme"]');
        if (scheme) scheme.setAttribute("content", data.theme === "auto" ? "light dark" : data.theme);
        form.querySelector('input[name="theme"]').value = data.next;
        var button = form.querySelector("button");
        button.setAttribute("aria-label", THEME_LABELS[data.theme]);
        button.title = THEME_LABELS[data.theme] + " (switch to " + data.next + ")";
        button.querySelector("[data-theme-icon]").textContent = THEME_ICONS[data.theme];
        document.dispatchEvent(new CustomEvent("paysite:theme", { detail: data }));
      })
      .catch(function () { form.submit(); });
  });

  // Dialogs: <button data-dialog-open="id"> opens <dialog id> as a modal, [data-dialog-close] closes
  // it; a dialog that a swap brings back marked data-open (a form error, a confirm step) opens again.
  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-dialog-open]");
    var dialog = opener && document.getElementById(opener.getAttribute("data-dialog-open"));
    if (dialog && dialog.showModal && !dialog.open) dialog.showModal();
    var closer = event.target.closest && event.target.closest("[data-dialog-close]");
    var open = closer && closer.closest("dialog");
    if (open) open.close();
  });
  var reopen = function () {
    document.querySelectorAll("dialog[data-open]").forEach(function (dialog) {
      if (dialog.showModal && !dialog.open) dialog.showModal();
      var invalid = dialog.querySelector("[aria-invalid=true]");
      if (invalid) invalid.focus();
    });
  };
  document.addEventListener("DOMContentLoaded", reopen);
  document.addEventListener("htmx:afterSettle", reopen);

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
