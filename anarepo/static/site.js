/* Progressive enhancement only: every form works without this file.
 * - buttons with data-dialog="ID" open <dialog id=ID> instead of submitting
 *   (the server shows a confirmation page when this script does not run);
 * - dialog fields are disabled until their dialog opens, so a closed dialog
 *   never submits anything; a confirm field enables its submit button only
 *   when the typed text equals data-expect;
 * - checkboxes with data-select-all="NAME" check every box named NAME in their form;
 * - Escape and clicks outside close the open <details> menus.
 */
(function () {
  "use strict";

  function fields(dialog) {
    return dialog.querySelectorAll("input, select, textarea");
  }

  function formOf(dialog) {
    var submit = dialog.querySelector("button[form]");
    return submit ? document.getElementById(submit.getAttribute("form")) : null;
  }

  function countChecked(form) {
    var n = 0;
    form.querySelectorAll("input[type=checkbox][name]").forEach(function (box) {
      if (box.checked && !box.hasAttribute("data-select-all")) { n += 1; }
    });
    return n;
  }

  function updateConfirm(dialog) {
    var input = dialog.querySelector("input[data-expect]");
    var submit = dialog.querySelector("[data-confirm-submit]");
    if (input && submit) {
      submit.disabled = input.value !== input.getAttribute("data-expect");
    }
  }

  function openDialog(dialog, opener) {
    var form = formOf(dialog);
    fields(dialog).forEach(function (el) { el.disabled = false; });
    var count = dialog.querySelector(".dialog-count");
    if (count && form) {
      var n = countChecked(form);
      count.textContent = n + " selected.";
    }
    dialog.returnFocusTo = opener;
    if (typeof dialog.showModal === "function") {
      dialog.showModal();
    } else {
      dialog.setAttribute("open", "");
    }
    updateConfirm(dialog);
    var first = dialog.querySelector("input:not([type=hidden])");
    if (first) { first.focus(); }
  }

  function closeDialog(dialog) {
    fields(dialog).forEach(function (el) { el.disabled = true; });
    if (dialog.open && typeof dialog.close === "function") { dialog.close(); }
    dialog.removeAttribute("open");
    if (dialog.returnFocusTo) { dialog.returnFocusTo.focus(); }
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog"));
      if (dialog) {
        event.preventDefault();
        var menu = opener.closest("details");
        if (menu) { menu.open = false; }
        openDialog(dialog, opener);
        return;
      }
    }
    var closer = event.target.closest("[data-close]");
    if (closer) {
      event.preventDefault();
      closeDialog(closer.closest("dialog"));
      return;
    }
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.open = false; }
    });
  });

  document.addEventListener("input", function (event) {
    var dialog = event.target.closest("dialog");
    if (dialog) { updateConfirm(dialog); }
  });

  document.addEventListener("change", function (event) {
    var box = event.target;
    var name = box.getAttribute && box.getAttribute("data-select-all");
    if (name && box.form) {
      box.form.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (other) {
        other.checked = box.checked;
      });
    }
  });

  document.addEventListener("keydown", function (event) {
    var dialog = event.target.closest && event.target.closest("dialog");
    if (dialog && event.key === "Enter" && event.target.tagName === "INPUT") {
      /* the form's default button is the opener: submit with the dialog's own button */
      event.preventDefault();
      var submit = dialog.querySelector("button[type=submit]");
      if (submit && !submit.disabled) { submit.click(); }
      return;
    }
    if (event.key === "Escape") {
      document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
        menu.open = false;
        var summary = menu.querySelector("summary");
        if (summary) { summary.focus(); }
      });
    }
  });

  document.querySelectorAll("dialog").forEach(function (dialog) {
    dialog.addEventListener("close", function () {
      fields(dialog).forEach(function (el) { el.disabled = true; });
    });
  });
})();
