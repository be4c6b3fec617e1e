// The new-credit form: show the picker of the chosen kind (activities or groups) only, and
// none when the credit covers all of them. Without this script both pickers stay visible.
(function () {
  "use strict";
  function row(name) {
    var field = document.querySelector('[name="' + name + '"]');
    return field ? field.closest(".form-row") : null;
  }
  function update() {
    var kind = document.querySelector('[name="scope_kind"]:checked, select[name="scope_kind"]');
    var all = document.querySelector('input[name="scope_all"]');
    var everything = all && all.checked;
    var value = kind ? kind.value : "";
    var activities = row("scope_activities") || row("scope_activities_old");
    var groups = row("scope_groups") || row("scope_groups_old");
    if (activities) activities.hidden = everything || (value && value !== "activity");
    if (groups) groups.hidden = everything || (value && value !== "group");
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll('[name="scope_kind"], input[name="scope_all"]').forEach(function (el) {
      el.addEventListener("change", update);
    });
    // FilteredSelectMultiple renames the select after load; run once it has.
    window.setTimeout(update, 0);
    update();
  });
})();
