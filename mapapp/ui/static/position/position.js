/* "Utiliser ma position" for the search page: a Streamlit component of our own.
   Constant code, no other host, no storage.  The browser's position is asked
   for only in the tap's handler (never at load), rounded to 3 decimals (about
   100 m) and sent to the page that embeds this frame (same origin only).
   Labels come from the app and are set as text, never as markup. */
(function () {
  "use strict";
  var d = document, w = window, taps = 0;
  var button = d.getElementById("use"), status = d.getElementById("status");
  var geo = w.navigator && w.navigator.geolocation, labels = {};
  function send(type, extra) {
    var msg = { isStreamlitMessage: true, type: type };
    for (var k in extra) { msg[k] = extra[k]; }
    w.parent.postMessage(msg, w.location.origin);
  }
  function height() { send("streamlit:setFrameHeight", { height: d.body.scrollHeight + 4 }); }
  function value(v) { send("streamlit:setComponentValue", { value: v, dataType: "json" }); }
  function round(x) { return Math.round(x * 1000) / 1000; }
  w.addEventListener("message", function (ev) {
    if (ev.origin !== w.location.origin || ev.source !== w.parent) { return; }
    var data = ev.data || {};
    if (data.type !== "streamlit:render") { return; }
    labels = data.args || {};
    button.textContent = String(labels.label || "");
    d.documentElement.lang = String(labels.lang || "fr");
    height();
  });
  button.addEventListener("click", function () {
    taps += 1;
    var n = taps + "-" + Date.now();
    if (!geo) { value({ failed: true, n: n }); return; }
    button.disabled = true;
    status.textContent = String(labels.locating || "");
    height();
    geo.getCurrentPosition(function (pos) {
      button.disabled = false;
      status.textContent = "";
      height();
      value({ lat: round(pos.coords.latitude), lon: round(pos.coords.longitude), n: n });
    }, function () {
      button.disabled = false;
      status.textContent = "";
      height();
      value({ failed: true, n: n });
    }, { enableHighAccuracy: false, timeout: 20000, maximumAge: 60000 });
  });
  send("streamlit:componentReady", { apiVersion: 1 });
  height();
})();
