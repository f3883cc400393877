/* The light page's map, drawn only when she asked for it.  Reads the points
   from the page's data attribute (JSON); every label is set as text. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var data = JSON.parse(el.getAttribute("data-map") || "{}");
  var map = L.map(el, { scrollWheelZoom: false });
  window.lightMap = map;
  if (data.tiles) {
    L.tileLayer(data.tiles, { maxZoom: 18, attribution: "" }).addTo(map);
    var credit = document.createElement("span");
    credit.textContent = data.attribution || "";
    map.attributionControl.setPrefix(false);
    map.attributionControl.getContainer().appendChild(credit);
  }
  function label(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }
  var bounds = [];
  var home = data.home;
  if (home) {
    L.circleMarker([home.lat, home.lon], { radius: 6, color: "#b91c1c" })
      .bindTooltip(label(home.t)).addTo(map);
    bounds.push([home.lat, home.lon]);
  }
  (data.points || []).forEach(function (p) {
    L.circleMarker([p.lat, p.lon], { radius: 9, color: "#0b4f9c", fillOpacity: 0.6 })
      .bindTooltip(label(p.n + ". " + p.t)).addTo(map);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length > 1) { map.fitBounds(bounds, { padding: [20, 20] }); }
  else if (bounds.length) { map.setView(bounds[0], 13); }
})();
