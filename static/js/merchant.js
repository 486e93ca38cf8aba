// Merchant forms: suggest the city from the 统一社会信用代码 while it is typed.
// Characters 3-8 of the code are the registering authority's area code; for Guangdong
// (44xxxx) the first four digits name the prefecture city (44xx00). The server makes the
// same suggestion, so this is only a convenience.
(function () {
  "use strict";
  var input = document.querySelector("[data-uscc-input]");
  if (!input) { return; }
  var select = document.getElementById(input.getAttribute("data-uscc-input"));
  var hint = document.getElementById("city-suggest");
  if (!select) { return; }
  var autoPicked = select.value === "0" || select.value === "";
  select.addEventListener("change", function () { autoPicked = false; });
  function suggest() {
    var code = input.value.replace(/\s+/g, "").toUpperCase();
    if (code.length < 6) { return; }
    var area = code.substring(2, 6);
    if (!/^44\d\d$/.test(area)) { return; }
    var option = select.querySelector('option[data-code="' + area + '00"]');
    if (!option) { return; }
    if (autoPicked || select.value === "0") {
      select.value = option.value;
      autoPicked = true;
    }
    if (hint) {
      hint.textContent = "根据统一社会信用代码，建议选择：" + option.textContent;
      hint.hidden = false;
    }
  }
  input.addEventListener("input", suggest);
  suggest();
}());
