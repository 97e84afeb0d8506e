// window.gridmap: draws the layers, legend, view counter and fit of maps made by maps/render.py.
// Loaded after Leaflet (see maps/assets.py); the map's own script calls it.
window.gridmap = (function () {
  var registry = {}, legendEl = null, legendOn = {}, counters = [];
  function cell(d, i, k) {
    // a column is a list of (escaped) values, or {d: distinct values, k: codes}
    var c = d.cols[k];
    return c.d ? c.d[c.k[i]] : c[i];
  }
  function tipText(d, i) {
    var out = [];
    for (var k = 0; k < d.tip.length; k++) { var v = cell(d, i, d.tip[k]); if (v !== "") out.push(v); }
    return out.join(" · ");
  }
  function popupHtml(d, i) {
    var h = '<table class="gm-popup"><caption>' + d.title + '</caption>';
    for (var k = 0; k < d.labels.length; k++) {
      var v = cell(d, i, k);
      if (v !== "") h += "<tr><th>" + d.labels[k] + "</th><td>" + v + "</td></tr>";
    }
    return h + "</table>";
  }
  function decode(d) {
    // compact geometries: integer coordinates (units of 10^-decimals degrees), delta-coded
    if (d.geojson) return d.geojson;
    var g = d.geo, s = g.scale, feats = [], k, x, y;
    function feature(i, geometry) {
      return {type: "Feature", properties: {i: i, c: d.cls[i]}, geometry: geometry};
    }
    if (g.pt) {
      x = 0; y = 0;
      for (k = 0; k < g.pt.i.length; k++) {
        x += g.pt.c[2 * k]; y += g.pt.c[2 * k + 1];
        feats.push(feature(g.pt.i[k], {type: "Point", coordinates: [x / s, y / s]}));
      }
    }
    if (g.pg) {
      var c = g.pg.c, n = c.length / 2, xs = new Float64Array(n), ys = new Float64Array(n);
      x = 0; y = 0;
      for (k = 0; k < n; k++) { x += c[2 * k]; y += c[2 * k + 1]; xs[k] = x / s; ys[k] = y / s; }
      var r = g.pg.r, p = g.pg.p, m = g.pg.m;
      for (var f = 0; f < g.pg.i.length; f++) {
        var polys = [];
        for (var a = m[f]; a < m[f + 1]; a++) {
          var rings = [];
          for (var b = p[a]; b < p[a + 1]; b++) {
            var ring = [];
            for (var v = r[b]; v < r[b + 1]; v++) ring.push([xs[v], ys[v]]);
            rings.push(ring);
          }
          polys.push(rings);
        }
        feats.push(feature(g.pg.i[f], {type: "MultiPolygon", coordinates: polys}));
      }
    }
    if (g.ln) {
      var lc = g.ln.c, ln = lc.length / 2, lx = new Float64Array(ln), ly = new Float64Array(ln);
      x = 0; y = 0;
      for (k = 0; k < ln; k++) { x += lc[2 * k]; y += lc[2 * k + 1]; lx[k] = x / s; ly[k] = y / s; }
      var lp = g.ln.p, lm = g.ln.m;
      for (var h = 0; h < g.ln.i.length; h++) {
        var lines = [];
        for (var e = lm[h]; e < lm[h + 1]; e++) {
          var line = [];
          for (var w = lp[e]; w < lp[e + 1]; w++) line.push([lx[w], ly[w]]);
          lines.push(line);
        }
        feats.push(feature(g.ln.i[h], {type: "MultiLineString", coordinates: lines}));
      }
    }
    return {type: "FeatureCollection", features: feats};
  }
  function renderer(map, d) {
    // Every interactive layer shares one canvas: Leaflet's canvas hands a click to the feature
    // drawn last, and point layers are kept drawn last (raise), so a facility over a grid is
    // the one clicked. Outlines on top (highlights) go to an SVG pane that ignores the pointer.
    if (d.pane === "top") {
      if (!map._gmTop) {
        var pane = map.createPane("gmTop");
        pane.style.zIndex = 450; pane.style.pointerEvents = "none";
        map._gmTop = L.svg({pane: "gmTop"});
      }
      return map._gmTop;
    }
    return (map._gmCanvas = map._gmCanvas || L.canvas({padding: 0.3}));
  }
  function raise(map) {
    // point layers above area layers, in the order they were added
    for (var key in registry) {
      var l = registry[key];
      if (l.gmData.front && map.hasLayer(l)) l.bringToFront();
    }
  }
  function numbered(ll, s, text) {
    var size = Math.max(2 * (s.radius || 10), 22);
    var icon = L.divIcon({
      className: "gm-num", iconSize: [size, size],
      html: '<span style="background:' + s.fillColor + ';border-color:' + s.color +
            ';width:' + size + 'px;height:' + size + 'px;line-height:' + (size - 4) + 'px">' +
            text + '</span>'
    });
    return L.marker(ll, {icon: icon, keyboard: false, riseOnHover: true});
  }
  function add(map, parent, d) {
    var rend = renderer(map, d);
    var layer = L.geoJSON(decode(d), {
      style: function (f) {
        var s = Object.assign({}, d.style, d.symbols[f.properties.c] || {});
        s.renderer = rend; s.className = "gm-" + d.key;
        if (d.pane === "top") { s.pane = "gmTop"; s.interactive = false; }
        return s;
      },
      pointToLayer: function (f, ll) {
        var s = Object.assign({radius: 5, weight: 1, color: "#333", fillOpacity: 0.85},
                              d.style, d.symbols[f.properties.c] || {});
        s.renderer = rend; s.className = "gm-" + d.key;
        if (d.pane === "top") { s.pane = "gmTop"; s.interactive = false; }
        if (s.fillColor === undefined) s.fillColor = s.color;
        if (d.mark !== undefined && d.mark >= 0) return numbered(ll, s, cell(d, f.properties.i, d.mark));
        return L.circleMarker(ll, s);
      },
      onEachFeature: function (f, lyr) {
        var i = f.properties.i;
        if (d.tip.length) lyr.bindTooltip(function () { return tipText(d, i); }, {sticky: true});
        if (d.labels.length) lyr.bindPopup(function () { return popupHtml(d, i); }, {maxWidth: 320});
      }
    });
    layer.gmData = d;
    layer.gmParent = parent;
    layer.addTo(parent);
    registry[d.id || d.key] = layer;
    parent.on("add", function () {
      legendOn[d.key] = true; raise(map); refreshLegend(); updateCounts(map);
    });
    parent.on("remove", function () { legendOn[d.key] = false; refreshLegend(); updateCounts(map); });
    legendOn[d.key] = map.hasLayer(parent);
    if (!d.front) map.whenReady(function () { raise(map); });
    return layer;
  }
  function refreshLegend() {
    if (!legendEl) return;
    var secs = legendEl.querySelectorAll(".gm-sec");
    for (var k = 0; k < secs.length; k++) {
      var key = secs[k].getAttribute("data-layer");
      secs[k].style.display = legendOn[key] === false ? "none" : "";
    }
  }
  function legend(map, htmlText, position) {
    var c = L.control({position: position || "bottomright"});
    c.onAdd = function () {
      var div = L.DomUtil.create("div", "gm-legend");
      div.innerHTML = htmlText; legendEl = div; refreshLegend();
      // the title folds the legend away; on a phone-sized map it starts folded
      var title = div.querySelector("h4");
      if (title) {
        title.title = "+/-";
        L.DomEvent.on(title, "click", function () { div.classList.toggle("gm-collapsed"); });
        // a map in a hidden frame has no size yet: fall back to the device's screen width
        var width = map.getSize().x || window.innerWidth || screen.width;
        if (width < 480) div.classList.add("gm-collapsed");
      }
      L.DomEvent.disableScrollPropagation(div); L.DomEvent.disableClickPropagation(div);
      return div;
    };
    c.addTo(map);
  }
  function updateCounts(map) {
    for (var k = 0; k < counters.length; k++) counters[k](map);
  }
  function viewCounter(map, text) {
    var c = L.control({position: "topright"}), div;
    c.onAdd = function () { div = L.DomUtil.create("div", "gm-view"); return div; };
    c.addTo(map);
    function count() {
      var b = map.getBounds(), grids = 0, residents = 0, facilities = 0;
      for (var key in registry) {
        var layer = registry[key], d = layer.gmData;
        if (!d.stat || !map.hasLayer(layer)) continue;
        layer.eachLayer(function (l) {
          var inView = l.getLatLng ? b.contains(l.getLatLng()) : b.intersects(l.getBounds());
          if (!inView) return;
          var i = l.feature.properties.i;
          if (d.stat === "grids") {
            grids += d.counts ? d.counts[i] : 1; residents += d.weights ? d.weights[i] : 0;
          }
          else if (d.stat === "facilities") { facilities += 1; }
        });
      }
      div.innerHTML = text.title + "<br>" + text.grids + " " + grids.toLocaleString() + " · " +
        text.residents + " " + residents.toLocaleString() + " · " + text.facilities + " " +
        facilities.toLocaleString();
    }
    counters.push(count);
    map.on("moveend", count);
    setTimeout(count, 0);
  }
  function fit(map, bounds) {
    // Fit `bounds` leaving room for the controls: the legend (bottom right) and the layer
    // control, zoom buttons and "in view" box (top). A map in a hidden frame has no size yet:
    // it fits when it first gets one.
    function go() {
      var size = map.getSize();
      if (!size.x || !size.y) { map.once("resize", go); return; }
      var pad = 12, top = pad, br = [pad, pad];
      var corners = map.getContainer().querySelectorAll(".leaflet-top .leaflet-control");
      for (var k = 0; k < corners.length; k++) {
        top = Math.max(top, corners[k].offsetTop + corners[k].offsetHeight + pad);
      }
      if (legendEl && legendEl.offsetWidth) {
        var w = legendEl.offsetWidth + 2 * pad, h = legendEl.offsetHeight + 2 * pad;
        // keep the legend's width free on the right or its height free at the bottom,
        // whichever costs the smaller share of the map
        if (w / size.x <= h / size.y) br = [Math.min(w, size.x * 0.45), pad];
        else br = [pad, Math.min(h, size.y * 0.45)];
      }
      top = Math.min(top, size.y * 0.3);
      map.fitBounds(bounds, {paddingTopLeft: [pad, top], paddingBottomRight: br,
                             animate: false});
    }
    map.whenReady(function () { setTimeout(go, 0); });
  }
  function touch(map) {
    // Phones: one finger scrolls the page, two fingers move and zoom the map. Leaflet's
    // one-finger dragging is off (its container then allows the browser's own panning of the
    // page); its pinch handler moves the map with the two fingers' midpoint.
    var coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
    if (!(L.Browser.touch && (L.Browser.mobile || coarse))) return;
    map.dragging.disable();
    var el = map.getContainer();
    el.classList.add("gm-touch");
    var hint = L.DomUtil.create("div", "gm-touch-hint", el), timer = null;
    hint.textContent = (map.options.gmText || {}).twoFingers || "";
    L.DomEvent.on(el, "touchmove", function (e) {
      if (e.touches.length !== 1) { hint.style.opacity = 0; return; }
      hint.style.opacity = 1; clearTimeout(timer);
      timer = setTimeout(function () { hint.style.opacity = 0; }, 1200);
    });
  }
  function setLegend(key, on) { legendOn[key] = on; refreshLegend(); }
  function lazyGrids(map, cfg) {
    // Zoomed in to cfg.minZoom or closer, the grids of the visible area replace the
    // per-community sums (registry[cfg.summary]) inside the same layer-control entry: the
    // communities in view not loaded yet are fetched from the server (cfg.url, batched), drawn
    // with gridmap.add like any layer and kept; zoomed out again, they are hidden.
    var sums = registry[cfg.summary];
    if (!sums) return;
    var group = sums.gmParent, grids = L.featureGroup(), loaded = {}, pending = {};
    var batches = 0, notice = null, busy = 0, BATCH = 40;
    legendOn[cfg.key] = false;
    map.gmGridZoom = cfg.minZoom;
    function say(text) {
      if (!notice) {
        var c = L.control({position: "bottomleft"});
        c.onAdd = function () { notice = L.DomUtil.create("div", "gm-notice"); return notice; };
        c.addTo(map);
      }
      notice.textContent = text || "";
      notice.style.display = text ? "" : "none";
    }
    function wanted() {
      var b = map.getBounds().pad(0.25), out = [];
      for (var k = 0; k < cfg.index.length; k++) {
        var r = cfg.index[k], id = r[0];
        if (loaded[id] || pending[id]) continue;
        if (b.intersects(L.latLngBounds([r[1], r[2]], [r[3], r[4]]))) out.push(id);
      }
      return out;
    }
    function fetchBatch(ids) {
      ids.forEach(function (id) { pending[id] = true; });
      busy += 1; say(cfg.text.loading);
      var q = "v=" + encodeURIComponent(cfg.v) + "&c=" + encodeURIComponent(ids.join(","));
      for (var name in cfg.q) q += "&" + name + "=" + encodeURIComponent(cfg.q[name]);
      fetch(cfg.url + "?" + q, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (resp) {
          if (resp.ok) return resp.json();
          var e = new Error("HTTP " + resp.status); e.status = resp.status; throw e;
        })
        .then(function (d) {
          busy -= 1;
          ids.forEach(function (id) { delete pending[id]; loaded[id] = true; });
          d.id = cfg.key + "~" + (++batches);
          if (d.cls.length) add(map, grids, d);
          if (!busy) say("");
          raise(map); updateCounts(map);
        })
        .catch(function (e) {
          busy -= 1;
          ids.forEach(function (id) { delete pending[id]; });
          say(e.status === 401 || e.status === 403 ? cfg.text.signin
              : e.status === 409 ? cfg.text.stale : cfg.text.failed);
        });
    }
    function update() {
      if (!map.hasLayer(group)) { setLegend(cfg.key, false); return; }
      var near = map.getZoom() >= cfg.minZoom;
      if (near) {
        if (group.hasLayer(sums)) group.removeLayer(sums);
        if (!group.hasLayer(grids)) group.addLayer(grids);
        var ids = wanted();
        for (var k = 0; k < ids.length; k += BATCH) fetchBatch(ids.slice(k, k + BATCH));
      } else {
        if (group.hasLayer(grids)) group.removeLayer(grids);
        if (!group.hasLayer(sums)) group.addLayer(sums);
        if (!busy) say("");
      }
      legendOn[cfg.summary] = !near; setLegend(cfg.key, near);
      raise(map); updateCounts(map);
    }
    group.on("add", update);
    group.on("remove", function () { setLegend(cfg.key, false); });
    map.on("moveend", update);
    map.whenReady(function () { setTimeout(update, 0); });
  }
  function scale(map) { L.control.scale({metric: true, imperial: false}).addTo(map); }
  function count(key) {
    // features drawn for `key`, the batches of lazily loaded layers (key~1, key~2...) included
    var n = 0;
    for (var id in registry) {
      var l = registry[id];
      if (id === key || id.indexOf(key + "~") === 0) n += l.getLayers().length;
    }
    return n;
  }
  function text(key, l) { var d = registry[key].gmData; return popupHtml(d, l.feature.properties.i); }
  return {add: add, legend: legend, scale: scale, viewCounter: viewCounter, count: count,
          registry: registry, text: text, fit: fit, touch: touch, lazyGrids: lazyGrids};
})();
