/* flowdoc: the diagrams, tables and version menu of a site of flows (any MkDocs theme).
 *
 * - Draws every pre.flowdoc-mermaid with Mermaid (loaded before this script) into a box that
 *   scrolls sideways: a diagram is shrunk to the column only as far as its smallest label stays
 *   12 px or more. A "Full size" button opens it in a dialog with zoom and pan (mouse, touch and
 *   keyboard: + - 0 1, arrow keys, Esc).
 * - Mermaid's theme follows the page: dark when the page's background is dark (the palette of
 *   mkdocs-material, the colour mode of the mkdocs theme), drawn again when the reader switches.
 * - When Mermaid is not there (offline, blocked), or cannot draw a diagram, says so above the
 *   diagram's source.
 * - Wraps tables that have no box of their own in one that scrolls sideways.
 * - The links of the version menu (.flowdoc-versions) keep the section the reader is at.
 * - Code tabs (.flowdoc-tabs: the request of a step as HTTP, curl, Python, JavaScript) switch by
 *   click and by the arrow, Home and End keys (WAI-ARIA tabs); the language chosen is kept for
 *   every step of the page. Without the script every panel shows, each under its name.
 *
 * No inline handlers, no eval: the page's Content-Security-Policy allows scripts from the site only.
 */
(function () {
  "use strict";

  var SELECTOR = "pre.flowdoc-mermaid";
  var MIN_LABEL_PX = 12;
  var MAX_ZOOM = 4;
  var KINDS = { sequenceDiagram: "Sequence diagram", stateDiagram: "State diagram", "stateDiagram-v2": "State diagram",
                flowchart: "Flowchart", graph: "Flowchart" };
  var diagrams = [];
  var uid = 0;
  var darkNow = null;
  var zoomer = null;

  // ------------------------------------------------------------------ colours

  function rgba(text) {
    var m = /rgba?\(([^)]+)\)/.exec(text || "");
    if (!m) { return null; }
    var p = m[1].split(/[\s,\/]+/).filter(Boolean).map(parseFloat);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  }

  function pageBackground() {
    var el = document.querySelector("[role=main], .md-content, main, article") || document.body;
    for (; el; el = el.parentElement) {
      var c = rgba(getComputedStyle(el).backgroundColor);
      if (c && c.a > 0.5) { return c; }
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  }

  function isDark() {
    var c = pageBackground();
    return (0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b) / 255 < 0.4;
  }

  function mermaidConfig(dark) {
    return {
      startOnLoad: false,
      securityLevel: "strict",
      suppressErrorRendering: true,
      theme: dark ? "dark" : "default",
      sequence: { useMaxWidth: false },
      flowchart: { useMaxWidth: false },
      state: { useMaxWidth: false }
    };
  }

  // ----------------------------------------------------------------- diagrams

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }

  function kindOf(source) {
    var first = source.replace(/^\s*(%%[^\n]*\n\s*)*/, "").split(/\s/)[0];
    return KINDS[first] || "Diagram";
  }

  function setUp(pre) {
    var source = pre.textContent;
    var box = el("div", "flowdoc-diagram");
    var bar = el("div", "flowdoc-diagram-bar");
    var hint = el("span", "flowdoc-diagram-hint", "Scroll sideways to see all of it, or open it full size.");
    var open = el("button", "flowdoc-diagram-open", "Full size");
    var view = el("div", "flowdoc-diagram-view");
    var d = { pre: pre, box: box, view: view, open: open, source: source, kind: kindOf(source), svg: null, id: null };
    open.type = "button";
    open.disabled = true;
    open.setAttribute("aria-label", "Open the " + d.kind.toLowerCase() + " full size, with zoom");
    view.tabIndex = 0;
    view.setAttribute("role", "group");
    view.setAttribute("aria-label", d.kind + " (scrolls sideways)");
    bar.appendChild(hint);
    bar.appendChild(open);
    pre.parentNode.insertBefore(box, pre);
    box.appendChild(bar);
    box.appendChild(view);
    box.appendChild(pre);
    open.addEventListener("click", function () { openFull(d); });
    diagrams.push(d);
    return d;
  }

  function showError(d, text) {
    var note = d.box.querySelector(".flowdoc-diagram-error");
    if (!note) {
      note = el("p", "flowdoc-diagram-error");
      note.setAttribute("role", "note");
      d.box.insertBefore(note, d.pre);
    }
    note.textContent = text;
    d.box.classList.remove("flowdoc-drawn");
    d.box.classList.add("flowdoc-failed");
    d.pre.hidden = false;
  }

  function mermaidSource() {
    var scripts = document.querySelectorAll("script[src]");
    for (var i = 0; i < scripts.length; i++) {
      if (/mermaid/i.test(scripts[i].getAttribute("src"))) { return scripts[i].src; }
    }
    return "";
  }

  function labelFonts(svg) {
    var out = [];
    var nodes = svg.querySelectorAll("text, tspan, foreignObject *");
    for (var i = 0; i < nodes.length; i++) {
      var own = false;
      for (var c = nodes[i].firstChild; c; c = c.nextSibling) {
        if (c.nodeType === 3 && c.nodeValue.trim()) { own = true; break; }
      }
      if (own) {
        var size = parseFloat(getComputedStyle(nodes[i]).fontSize);
        if (size > 0) { out.push(size); }
      }
    }
    return out;
  }

  function naturalSize(svg) {
    var vb = svg.viewBox && svg.viewBox.baseVal;
    if (vb && vb.width > 0 && vb.height > 0) { return { w: vb.width, h: vb.height }; }
    var r = svg.getBBox();
    return { w: r.width || 300, h: r.height || 150 };
  }

  /* The smallest scale at which every label of the diagram is MIN_LABEL_PX or more. */
  function readableScale(d) {
    return d.minFont > 0 ? MIN_LABEL_PX / d.minFont : 1;
  }

  function sizeSvg(svg, size, scale) {
    svg.setAttribute("width", String(Math.ceil(size.w * scale)));
    svg.setAttribute("height", String(Math.ceil(size.h * scale)));
    svg.style.maxWidth = "none";
    svg.style.width = Math.ceil(size.w * scale) + "px";
    svg.style.height = Math.ceil(size.h * scale) + "px";
  }

  function fit(d) {
    var svg = d.view.querySelector("svg");
    if (!svg || !d.size) { return; }
    var avail = d.view.clientWidth - 2;  // 0 while hidden (a closed <details>): fitted again when opened
    var scale = Math.max(avail > 0 ? Math.min(1, avail / d.size.w) : 0, readableScale(d));
    sizeSvg(svg, d.size, scale);
    d.scale = scale;
    d.box.classList.toggle("flowdoc-scrolls", avail > 0 && d.size.w * scale > avail + 1);
  }

  /* A diagram wider than its box: show where it starts. A sequence diagram: the lifeline its
     first message leaves from, at the left of the box; a state diagram or flowchart: its top
     node, in the middle. */
  function showStart(d) {
    if (!d.box.classList.contains("flowdoc-scrolls")) { return; }
    var sequence = d.kind === KINDS.sequenceDiagram;
    var nodes = d.view.querySelectorAll(sequence ? ".messageLine0, .messageLine1" : "g.node");
    var top = null;
    for (var i = 0; i < nodes.length; i++) {
      var r = nodes[i].getBoundingClientRect();
      if ((r.width || r.height) && (!top || r.top < top.top)) { top = r; }
    }
    if (!top) { return; }
    var view = d.view.getBoundingClientRect();
    d.view.scrollLeft += sequence ? top.left - view.left - 24 : top.left + top.width / 2 - view.left - d.view.clientWidth / 2;
  }

  function draw(d, dark) {
    var id = "flowdoc-diagram-" + (++uid);
    return window.mermaid.render(id, d.source).then(function (out) {
      d.id = id;
      d.svg = out.svg;
      d.box.classList.add("flowdoc-drawn");
      d.pre.hidden = true;
      d.view.innerHTML = out.svg;
      var svg = d.view.querySelector("svg");
      if (out.bindFunctions) { out.bindFunctions(d.view); }
      d.size = naturalSize(svg);
      sizeSvg(svg, d.size, 1);
      var fonts = labelFonts(svg);
      d.minFont = fonts.length ? Math.min.apply(null, fonts) : 0;
      d.dark = dark;
      fit(d);
      showStart(d);
      var note = d.box.querySelector(".flowdoc-diagram-error");
      if (note) { note.parentNode.removeChild(note); }
      d.box.classList.remove("flowdoc-failed");
      d.open.disabled = false;
    }).catch(function (err) {
      showError(d, "Mermaid could not draw this diagram (" + String(err && err.message ? err.message : err).split("\n")[0] +
        "). Its source follows.");
    });
  }

  function drawAll(list) {
    if (typeof window.mermaid === "undefined" || !window.mermaid.render) {
      var src = mermaidSource();
      list.forEach(function (d) {
        showError(d, "This diagram could not be drawn: Mermaid's script" + (src ? " (" + src + ")" : "") +
          " did not load, perhaps because the page is offline or the script was blocked. The diagram's source follows.");
      });
      return Promise.resolve();
    }
    darkNow = isDark();
    window.mermaid.initialize(mermaidConfig(darkNow));
    var dark = darkNow;
    var chain = Promise.resolve();
    list.forEach(function (d) { chain = chain.then(function () { return draw(d, dark); }); });
    return chain;
  }

  // --------------------------------------------------------- full-size view

  function button(label, action, aria) {
    var b = el("button", "flowdoc-zoom-" + action, label);
    b.type = "button";
    b.setAttribute("data-action", action);
    if (aria) { b.setAttribute("aria-label", aria); }
    return b;
  }

  function makeZoomer() {
    var dlg = el("dialog", "flowdoc-zoom");
    var bar = el("div", "flowdoc-zoom-bar");
    var title = el("span", "flowdoc-zoom-title");
    var level = el("span", "flowdoc-zoom-level");
    var stage = el("div", "flowdoc-zoom-stage");
    var help = el("p", "flowdoc-zoom-help",
      "Drag or use the arrow keys to move; + and − to zoom, 0 to fit, 1 for the actual size; Esc to close.");
    dlg.setAttribute("aria-label", "Diagram, full size");
    stage.tabIndex = 0;
    stage.setAttribute("role", "group");
    bar.appendChild(title);
    bar.appendChild(button("−", "out", "Zoom out"));
    bar.appendChild(level);
    bar.appendChild(button("+", "in", "Zoom in"));
    bar.appendChild(button("Fit", "fit", "Fit to the window"));
    bar.appendChild(button("1:1", "one", "Actual size"));
    bar.appendChild(button("Close", "close", "Close the full-size view (Esc)"));
    dlg.appendChild(bar);
    dlg.appendChild(stage);
    dlg.appendChild(help);
    document.body.appendChild(dlg);
    var z = { dialog: dlg, stage: stage, title: title, level: level, scale: 1, d: null, opener: null };
    bar.addEventListener("click", function (e) {
      var b = e.target.closest ? e.target.closest("button[data-action]") : null;
      if (b) { act(z, b.getAttribute("data-action")); }
    });
    dlg.addEventListener("keydown", function (e) { zoomKey(z, e); });
    dlg.addEventListener("close", function () {
      z.stage.innerHTML = "";
      if (z.opener) { z.opener.focus(); }
    });
    stage.addEventListener("wheel", function (e) {
      if (e.ctrlKey || e.metaKey) {
        e.preventDefault();
        setScale(z, z.scale * (e.deltaY < 0 ? 1.15 : 1 / 1.15));
      }
    }, { passive: false });
    dragToPan(stage);
    return z;
  }

  function dragToPan(stage) {
    var drag = null;
    stage.addEventListener("pointerdown", function (e) {
      if (e.pointerType === "touch" || e.button !== 0) { return; }
      drag = { x: e.clientX, y: e.clientY, left: stage.scrollLeft, top: stage.scrollTop };
      stage.setPointerCapture(e.pointerId);
      stage.classList.add("flowdoc-dragging");
    });
    stage.addEventListener("pointermove", function (e) {
      if (!drag) { return; }
      stage.scrollLeft = drag.left - (e.clientX - drag.x);
      stage.scrollTop = drag.top - (e.clientY - drag.y);
    });
    function end() { drag = null; stage.classList.remove("flowdoc-dragging"); }
    stage.addEventListener("pointerup", end);
    stage.addEventListener("pointercancel", end);
  }

  function fitScale(z) {
    var s = z.d.size;
    return Math.min((z.stage.clientWidth - 16) / s.w, (z.stage.clientHeight - 16) / s.h);
  }

  function setScale(z, scale) {
    var stage = z.stage;
    var svg = stage.querySelector("svg");
    if (!svg) { return; }
    scale = Math.max(0.05, Math.min(MAX_ZOOM, scale));
    var cx = (stage.scrollLeft + stage.clientWidth / 2) / Math.max(1, stage.scrollWidth);
    var cy = (stage.scrollTop + stage.clientHeight / 2) / Math.max(1, stage.scrollHeight);
    sizeSvg(svg, z.d.size, scale);
    z.scale = scale;
    z.level.textContent = Math.round(scale * 100) + " %";
    stage.scrollLeft = cx * stage.scrollWidth - stage.clientWidth / 2;
    stage.scrollTop = cy * stage.scrollHeight - stage.clientHeight / 2;
  }

  function act(z, action) {
    if (action === "in") { setScale(z, z.scale * 1.25); }
    else if (action === "out") { setScale(z, z.scale / 1.25); }
    else if (action === "fit") { setScale(z, fitScale(z)); }
    else if (action === "one") { setScale(z, 1); }
    else if (action === "close") { z.dialog.close(); }
  }

  function zoomKey(z, e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var keys = { "+": "in", "=": "in", "-": "out", "_": "out", "0": "fit", "1": "one" };
    if (keys[e.key]) {
      e.preventDefault();
      act(z, keys[e.key]);
    }
  }

  function openFull(d) {
    if (!d.svg) { return; }
    if (!zoomer) { zoomer = makeZoomer(); }
    var z = zoomer;
    z.d = d;
    z.opener = d.open;
    z.title.textContent = d.kind;
    z.stage.setAttribute("aria-label", d.kind + ", full size");
    z.stage.innerHTML = d.svg.split(d.id).join(d.id + "-full");
    var bg = pageBackground();
    z.dialog.style.background = "rgb(" + bg.r + ", " + bg.g + ", " + bg.b + ")";
    z.dialog.style.color = getComputedStyle(document.body).color;
    z.dialog.showModal();
    setScale(z, Math.max(Math.min(1, fitScale(z)), readableScale(d)));
    z.stage.scrollLeft = 0;
    z.stage.scrollTop = 0;
    z.stage.focus();
  }

  // ------------------------------------------------------------------ tables

  function wrapTables(root) {
    var tables = root.querySelectorAll("table");
    for (var i = 0; i < tables.length; i++) {
      var t = tables[i];
      var p = t.parentElement;
      if (!p || p.closest(".flowdoc-table, .md-typeset__scrollwrap, .md-typeset__table, .flowdoc-diagram")) { continue; }
      var box = el("div", "flowdoc-table");
      p.insertBefore(box, t);
      box.appendChild(t);
    }
  }

  // --------------------------------------------------------------- code tabs

  function selectTab(box, index, focus) {
    var tabs = box.querySelectorAll("[role=tab]");
    var panels = box.querySelectorAll("[role=tabpanel]");
    for (var i = 0; i < tabs.length; i++) {
      var on = i === index;
      tabs[i].setAttribute("aria-selected", on ? "true" : "false");
      tabs[i].tabIndex = on ? 0 : -1;
      if (panels[i]) { panels[i].hidden = !on; }
    }
    if (focus && tabs[index]) { tabs[index].focus(); }
  }

  function chooseLanguage(lang) {
    var boxes = document.querySelectorAll(".flowdoc-tabs.flowdoc-tabs-ready");
    for (var i = 0; i < boxes.length; i++) {
      var tabs = boxes[i].querySelectorAll("[role=tab]");
      for (var j = 0; j < tabs.length; j++) {
        if (tabs[j].getAttribute("data-flowdoc-lang") === lang) { selectTab(boxes[i], j, false); }
      }
    }
  }

  function setUpTabs(root) {
    var boxes = root.querySelectorAll(".flowdoc-tabs:not(.flowdoc-tabs-ready)");
    for (var i = 0; i < boxes.length; i++) {
      (function (box) {
        var tabs = Array.prototype.slice.call(box.querySelectorAll("[role=tab]"));
        box.classList.add("flowdoc-tabs-ready");
        selectTab(box, 0, false);
        tabs.forEach(function (tab, n) {
          tab.addEventListener("click", function () {
            selectTab(box, n, false);
            chooseLanguage(tab.getAttribute("data-flowdoc-lang"));
          });
          tab.addEventListener("keydown", function (e) {
            var to = { ArrowRight: n + 1, ArrowLeft: n - 1, Home: 0, End: tabs.length - 1 }[e.key];
            if (to === undefined) { return; }
            e.preventDefault();
            selectTab(box, (to + tabs.length) % tabs.length, true);
          });
        });
      })(boxes[i]);
    }
  }

  // ------------------------------------------------------------ version menu

  /* The section being read: the last heading at or above the top of the window. */
  function sectionAtTop() {
    var heads = document.querySelectorAll("h2[id], h3[id], h4[id]");
    var found = "";
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].getBoundingClientRect().top > 120) { break; }
      found = heads[i].id;
    }
    return found;
  }

  /* Remembered while the reader reads; not when the version menu is in view (the reader is at
     the top of the page, or came back up to the menu to switch version). */
  var reading = "";
  var scrollPending = false;
  function trackSection() {
    var menu = document.querySelector(".flowdoc-versions");
    if (!menu) { return; }
    var r = menu.getBoundingClientRect();
    if (r.bottom > 0 && r.top < window.innerHeight) { return; }
    reading = sectionAtTop();
  }
  window.addEventListener("scroll", function () {
    if (!scrollPending) {
      scrollPending = true;
      requestAnimationFrame(function () { scrollPending = false; trackSection(); });
    }
  }, { passive: true });

  function keepSection(e) {
    var a = e.target && e.target.closest ? e.target.closest(".flowdoc-versions a[href]") : null;
    if (!a) { return; }
    trackSection();
    var id = reading || decodeURIComponent(location.hash.replace(/^#/, ""));
    var base = a.getAttribute("href").split("#")[0];
    a.setAttribute("href", id ? base + "#" + encodeURIComponent(id) : base);
  }

  // -------------------------------------------------------------------- start

  function start() {
    var root = document.querySelector("[role=main], .md-content, main") || document.body;
    wrapTables(root);
    setUpTabs(document);
    var fresh = [];
    var pres = document.querySelectorAll(SELECTOR);
    for (var i = 0; i < pres.length; i++) {
      if (!pres[i].getAttribute("data-flowdoc")) {
        pres[i].setAttribute("data-flowdoc", "1");
        fresh.push(setUp(pres[i]));
      }
    }
    diagrams = diagrams.filter(function (d) { return document.body.contains(d.box); });
    return drawAll(fresh).then(function () {
      document.documentElement.setAttribute("data-flowdoc-diagrams", "drawn");
    });
  }

  function redrawIfThemeChanged() {
    if (typeof window.mermaid === "undefined" || darkNow === null || isDark() === darkNow) { return; }
    drawAll(diagrams.filter(function (d) { return d.svg; }));
  }

  /* A theme may fade its colours: look again once the fade is over. */
  function redrawOnThemeChange() {
    redrawIfThemeChanged();
    setTimeout(redrawIfThemeChanged, 400);
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { diagrams.forEach(fit); }, 100);
  });
  document.addEventListener("toggle", function (e) {
    if (e.target && e.target.open) { diagrams.forEach(function (d) { if (e.target.contains(d.box)) { fit(d); } }); }
  }, true);
  ["click", "auxclick", "contextmenu"].forEach(function (t) { document.addEventListener(t, keepSection, true); });
  new MutationObserver(redrawOnThemeChange).observe(document.documentElement, {
    attributes: true, subtree: false, attributeFilter: ["class", "style", "data-bs-theme", "data-md-color-scheme"]
  });
  function observeBody() {
    new MutationObserver(redrawOnThemeChange).observe(document.body, {
      attributes: true, attributeFilter: ["class", "style", "data-md-color-scheme", "data-md-color-primary"]
    });
  }

  /* Opened from disk (file://), search cannot work: no search box that finds nothing. */
  function hideSearchOffDisk() {
    if (location.protocol !== "file:") { return; }
    var boxes = document.querySelectorAll("[data-bs-target='#mkdocs_search_modal'], .md-search, label[for=__search]");
    for (var i = 0; i < boxes.length; i++) { boxes[i].hidden = true; boxes[i].style.display = "none"; }
  }

  function ready() {
    hideSearchOffDisk();
    observeBody();
    if (window.document$ && typeof window.document$.subscribe === "function") {
      window.document$.subscribe(function () { start(); });  // mkdocs-material, also after instant navigation
    } else {
      start();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
