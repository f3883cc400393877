/* "Utiliser ma position" on the light page (/m), as progressive enhancement.
   Without JavaScript the button stays hidden and the commune field works alone.
   The browser's position is asked for only when she taps the button; it is
   rounded to 3 decimals (about 100 m), put in the form's hidden lat/lon fields
   and sent by POST with the form: never in a URL, never kept in the browser's
   storage.  Constant code: no data, no user input, no other host. */
(function () {
  "use strict";
  var d = document, w = window, geo = w.navigator && w.navigator.geolocation;
  function reveal() {
    var ids = ["use-position", "position-note"];
    for (var i = 0; i < ids.length; i++) {
      var el = d.getElementById(ids[i]);
      if (el && geo) { el.hidden = false; }
    }
  }
  function round(x) { return (Math.round(x * 1000) / 1000).toFixed(3); }
  function say(text) {
    var st = d.getElementById("position-status");
    if (st) { st.textContent = text || ""; }
  }
  d.addEventListener("click", function (ev) {
    var b = ev.target && ev.target.closest ? ev.target.closest("#use-position") : null;
    if (!b || !geo) { return; }
    ev.preventDefault();
    var f = b.form;
    if (!f || !f.elements.lat || !f.elements.lon) { return; }
    b.disabled = true;
    say(b.getAttribute("data-locating"));
    geo.getCurrentPosition(function (pos) {
      f.elements.lat.value = round(pos.coords.latitude);
      f.elements.lon.value = round(pos.coords.longitude);
      b.disabled = false;
      say("");
      if (f.requestSubmit) { f.requestSubmit(); } else { f.submit(); }
    }, function () {
      f.elements.lat.value = "";
      f.elements.lon.value = "";
      b.disabled = false;
      say(b.getAttribute("data-failed"));
    }, { enableHighAccuracy: false, timeout: 20000, maximumAge: 60000 });
  });
  reveal();
  /* light.js swaps the page's body after a search: show the button again there */
  if (w.MutationObserver) {
    new w.MutationObserver(reveal).observe(d.documentElement, { childList: true });
  }
})();
