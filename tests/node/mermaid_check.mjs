#!/usr/bin/env node
// Mermaid parse checker for flowdoc's tests.
//
//   node tests/node/mermaid_check.mjs < sources.json > results.json
//
// stdin:  a JSON array of Mermaid diagram sources (strings).
// stdout: a JSON array with one object per input, in the same order:
//   {"ok": true,  "type": "sequence" | "stateDiagram" | "flowchart-v2" | ..., "labels": {...}}
//   {"ok": false, "error": "Parse error on line N: ...", "errorName": "...", "line": N}
// Everything else Mermaid, DOMPurify or jsdom print goes to stderr, never to stdout.
//
// labels by diagram type (every label is {"text", "raw"}, see below):
//   sequence:     participants [{id, name, raw, type: actor|participant|..., box}], boxes,
//                 messages [{index, from, to, text, raw, type: SOLID|DOTTED|..., arrow: "->>"|..., activate}],
//                 notes [{actors, placement: over|left of|right of, text, raw}],
//                 body: nested tree in source order; items are {kind: "message"|"note", ...} or
//                       {kind: "block", block: alt|opt|loop|par|par_over|critical|break|rect, text, raw,
//                        sections: [{text, raw, items: [...]}]}  (alt/else, par/and, critical/option
//                        give one section per branch; the first section's label is the block's),
//                 events: the same as a flat list (block_start/block_section/block_end/activate/...),
//                 autonumber, title
//   stateDiagram: states [{id, text, raw, type: default|choice|fork|join|start|end|composite|divider,
//                  shape, parent, descriptions, classes}], transitions [{from, to, text, raw}]
//                 (note edges excluded), notes [{state, position, text, raw}], classDefs {name: {styles,
//                 textStyles}}, direction, title. Start/end pseudo states get ids like root_start,
//                 root_end, <Composite>_start.
//   flowchart-v2: vertices [{id, text, raw, type: square|round|diamond|stadium|circle|..., shape, classes}],
//                 edges [{id, start, end, text, raw, type: arrow_point|..., stroke: normal|thick|dotted}],
//                 subgraphs [{id, text, raw, nodes}], classDefs, direction, title
//   other types:  {}
//
// One process handles any number of diagrams (importing Mermaid under jsdom takes ~1-2 s,
// a diagram then takes milliseconds). Each diagram is isolated: mermaid.parse() resets the
// site config (directives/front matter) and Diagram.fromText() calls the diagram db's clear()
// before parsing; we call clear() again after extracting, for good measure.
//
// Labels are reported twice:
//   "text": what a reader of the rendered diagram sees. Mermaid's pre-parser (encodeEntities in
//           mermaid.core.mjs, used by Diagram.fromText) replaces every entity code `#\w+;` in the
//           source by private markers before parsing: `#59;` -> "ﬂ°°59¶ß", `#lt;` -> "ﬂ°lt¶ß".
//           The db therefore still holds the markers. At render time Mermaid runs its own
//           `decodeEntities` over the SVG markup (cleanUpSvgCode in mermaid.core.mjs; the
//           flowchart/state label code calls it too), which turns the markers into HTML
//           character references `&#59;` / `&lt;`, which the browser then resolves.
//           We do exactly that: XML-escape the db text (as d3's .text() serialisation would),
//           apply Mermaid's own exported `decodeEntities` (imported from the very chunk module
//           mermaid.core.mjs imports it from, so it is the same function instance), then let the
//           HTML parser (jsdom, `innerHTML` -> `textContent`, the same trick as Mermaid's
//           `utils.entityDecode`) resolve the character references. So `openid#59; offline`
//           reads `openid; offline` and `#35;2` reads `#2`. Markup typed literally in a label
//           (e.g. `<br/>`) is left as literal text.
//   "raw":  the db text with Mermaid's markers turned back into source form (`#59;`), i.e. what
//           the author wrote after Mermaid's own trimming/sanitising.

import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

// ---------------------------------------------------------------------------------------------
// Keep stdout clean: only the final JSON goes there.
for (const k of ['log', 'info', 'debug', 'warn', 'trace']) {
  console[k] = (...args) => console.error(...args);
}

// ---------------------------------------------------------------------------------------------
// A DOM for Mermaid (see shared notes: jsdom@24, globals set before importing mermaid).
const dom = new JSDOM('<!DOCTYPE html><html><body></body></html>', { pretendToBeVisual: true });
const setGlobal = (name, value) => {
  if (globalThis[name] === undefined) {
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
};
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
// sequence `box` colour parsing uses `new Option().style` when window.CSS is missing (jsdom).
setGlobal('Option', dom.window.Option);
setGlobal('Element', dom.window.Element);
setGlobal('HTMLElement', dom.window.HTMLElement);
setGlobal('SVGElement', dom.window.SVGElement);
setGlobal('Node', dom.window.Node);
setGlobal('navigator', dom.window.navigator);

const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

// ---------------------------------------------------------------------------------------------
// Locate Mermaid's own decodeEntities: mermaid.core.mjs imports it from a hashed chunk file
// (chunks/mermaid.core/chunk-*.mjs). We read that import statement and import the same module.
async function loadMermaidDecodeEntities() {
  const coreUrl = new URL(import.meta.resolve('mermaid'));
  const coreSrc = readFileSync(coreUrl, 'utf8');
  const importRe = /import\s*\{([^}]*)\}\s*from\s*["'](\.\/chunks\/[^"']+\.mjs)["']/g;
  for (const m of coreSrc.matchAll(importRe)) {
    const names = m[1].split(',').map((s) => s.trim());
    if (names.includes('decodeEntities')) {
      const mod = await import(new URL(m[2], coreUrl).href);
      if (typeof mod.decodeEntities === 'function') return mod.decodeEntities;
    }
  }
  throw new Error('could not locate Mermaid\'s decodeEntities in mermaid.core.mjs (Mermaid version changed?)');
}
const mermaidDecodeEntities = await loadMermaidDecodeEntities();

const decoderEl = dom.window.document.createElement('div');
function escapeXml(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
/** What a reader sees: Mermaid's decodeEntities, then the browser's character-reference step. */
function readerText(t) {
  if (t === undefined || t === null) return t;
  const s = String(t);
  decoderEl.innerHTML = mermaidDecodeEntities(escapeXml(s));
  return decoderEl.textContent;
}
/** The db text with Mermaid's entity markers written back in source form (#59; #lt;). */
function rawText(t) {
  if (t === undefined || t === null) return t;
  return String(t).replace(/ﬂ°°/g, '#').replace(/ﬂ°/g, '#').replace(/¶ß/g, ';');
}
const label = (t) => ({ text: readerText(t ?? ''), raw: rawText(t ?? '') });

// ---------------------------------------------------------------------------------------------
// sequenceDiagram
const SEQ_ARROWS = {
  SOLID: '->>', DOTTED: '-->>', SOLID_CROSS: '-x', DOTTED_CROSS: '--x', SOLID_OPEN: '->',
  DOTTED_OPEN: '-->', SOLID_POINT: '-)', DOTTED_POINT: '--)', BIDIRECTIONAL_SOLID: '<<->>',
  BIDIRECTIONAL_DOTTED: '<<-->>',
};
// block kind -> [start, section separator or null, end] LINETYPE names
const SEQ_BLOCKS = {
  loop: ['LOOP_START', null, 'LOOP_END'],
  alt: ['ALT_START', 'ALT_ELSE', 'ALT_END'],
  opt: ['OPT_START', null, 'OPT_END'],
  par: ['PAR_START', 'PAR_AND', 'PAR_END'],
  par_over: ['PAR_OVER_START', 'PAR_AND', 'PAR_END'],
  rect: ['RECT_START', null, 'RECT_END'],
  critical: ['CRITICAL_START', 'CRITICAL_OPTION', 'CRITICAL_END'],
  break: ['BREAK_START', null, 'BREAK_END'],
};
const PLACEMENT_NAMES = { 0: 'left of', 1: 'right of', 2: 'over' };

function extractSequence(db) {
  const LT = db.LINETYPE;
  const typeName = Object.fromEntries(Object.entries(LT).map(([k, v]) => [v, k]));
  const startOf = {}; const sepOf = {}; const endOf = {};
  for (const [kind, [s, sep, e]] of Object.entries(SEQ_BLOCKS)) {
    startOf[LT[s]] = kind;
    if (sep) sepOf[LT[sep]] = true;
    endOf[LT[e]] = true;
  }

  const actors = db.getActors();
  const participants = db.getActorKeys().map((id) => {
    const a = actors.get(id);
    return {
      id,
      name: readerText(a.description ?? a.name),
      raw: rawText(a.description ?? a.name),
      type: a.type ?? 'participant',
      box: a.box ? readerText(a.box.name ?? '') : null,
    };
  });
  const boxes = (db.getBoxes?.() ?? []).map((b) => ({
    ...label(b.name ?? ''), fill: b.fill, participants: [...(b.actorKeys ?? [])],
  }));

  const messages = [];
  const notes = [];
  const events = [];
  const body = [];
  // stack of open blocks; each { block, section } where section.items is where we append
  const stack = [];
  const current = () => (stack.length ? stack[stack.length - 1].section.items : body);
  let autonumber = false;

  for (const m of db.getMessages()) {
    const t = m.type;
    const tname = typeName[t] ?? String(t);
    const text = typeof m.message === 'string' ? m.message : '';
    if (t === LT.AUTONUMBER) {
      autonumber = m.message?.visible !== false;
      events.push({ kind: 'autonumber', visible: autonumber });
    } else if (t === LT.NOTE) {
      const actorsOf = m.from === m.to || m.to === undefined ? [m.from] : [m.from, m.to];
      const note = { actors: actorsOf, placement: PLACEMENT_NAMES[m.placement] ?? String(m.placement), ...label(text) };
      notes.push(note);
      events.push({ kind: 'note', ...note });
      current().push({ kind: 'note', ...note });
    } else if (t === LT.ACTIVE_START || t === LT.ACTIVE_END) {
      events.push({ kind: t === LT.ACTIVE_START ? 'activate' : 'deactivate', actor: m.from });
    } else if (startOf[t] !== undefined) {
      const kind = startOf[t];
      const section = { ...label(text), items: [] };
      const block = { kind: 'block', block: kind, ...label(text), sections: [section] };
      current().push(block);
      stack.push({ block, section });
      events.push({ kind: 'block_start', block: kind, ...label(text) });
    } else if (sepOf[t]) {
      const top = stack[stack.length - 1];
      const section = { ...label(text), items: [] };
      if (top) {
        top.block.sections.push(section);
        top.section = section;
      }
      events.push({ kind: 'block_section', block: top?.block.block, separator: tname, ...label(text) });
    } else if (endOf[t]) {
      const top = stack.pop();
      events.push({ kind: 'block_end', block: top?.block.block });
    } else if (m.from !== undefined) {
      const msg = {
        index: messages.length,
        from: m.from,
        to: m.to,
        ...label(text),
        type: tname,
        arrow: SEQ_ARROWS[tname] ?? null,
        activate: Boolean(m.activate),
      };
      messages.push(msg);
      events.push({ kind: 'message', ...msg });
      current().push({ kind: 'message', ...msg });
    } else {
      events.push({ kind: 'other', type: tname, ...label(text) });
    }
  }
  return {
    title: readerText(db.getDiagramTitle?.() ?? ''),
    autonumber,
    participants,
    boxes,
    messages,
    notes,
    body,
    events,
  };
}

// ---------------------------------------------------------------------------------------------
// stateDiagram-v2 (and v1): use db.getData(), the node/edge list the renderer lays out, which
// includes states nested in composite states (with parentId).
const STATE_SHAPE_TYPES = {
  rect: 'default', rectWithTitle: 'default', choice: 'choice', fork: 'fork', join: 'join',
  stateStart: 'start', stateEnd: 'end', roundedWithTitle: 'composite', divider: 'divider',
};
function userClasses(cssClasses) {
  return String(cssClasses ?? '').split(/\s+/).filter((c) => c && !c.startsWith('statediagram-'));
}
function extractState(db) {
  const data = db.getData();
  const states = [];
  const notes = [];
  const noteOwner = {};
  for (const n of data.nodes) {
    if (n.shape === 'noteGroup') continue;
    if (n.shape === 'note') {
      const owner = String(n.id).split('----')[0];
      noteOwner[n.id] = owner;
      notes.push({ state: owner, position: n.position, ...label(n.label) });
      continue;
    }
    const desc = Array.isArray(n.description) ? n.description : [];
    states.push({
      id: n.id,
      ...label(n.label),
      type: STATE_SHAPE_TYPES[n.shape] ?? n.shape,
      shape: n.shape,
      parent: n.parentId ?? null,
      descriptions: desc.map((d) => readerText(d)),
      classes: userClasses(n.cssClasses),
    });
  }
  const transitions = data.edges
    .filter((e) => !String(e.classes ?? '').includes('note-edge'))
    .map((e) => ({ from: e.start, to: e.end, ...label(e.label ?? '') }));
  const classDefs = {};
  for (const [name, c] of db.getClasses()) {
    classDefs[name] = { styles: [...(c.styles ?? [])], textStyles: [...(c.textStyles ?? [])] };
  }
  return {
    title: readerText(db.getDiagramTitle?.() ?? ''),
    direction: data.direction ?? null,
    states,
    transitions,
    notes,
    classDefs,
  };
}

// ---------------------------------------------------------------------------------------------
// flowchart / graph
function extractFlowchart(db) {
  const data = db.getData?.();
  const shapeById = Object.fromEntries((data?.nodes ?? []).map((n) => [n.id, n.shape]));
  const vertices = [...db.getVertices().values()].map((v) => ({
    id: v.id,
    ...label(v.text ?? v.id),
    type: v.type ?? null,
    shape: shapeById[v.id] ?? null,
    classes: [...(v.classes ?? [])],
  }));
  const edges = db.getEdges().map((e) => ({
    id: e.id,
    start: e.start,
    end: e.end,
    ...label(e.text ?? ''),
    type: e.type,
    stroke: e.stroke,
  }));
  const subgraphs = (db.getSubGraphs?.() ?? []).map((s) => ({
    id: s.id, ...label(s.title ?? ''), nodes: [...(s.nodes ?? [])],
  }));
  const classDefs = {};
  for (const [name, c] of db.getClasses?.() ?? []) {
    classDefs[name] = { styles: [...(c.styles ?? [])], textStyles: [...(c.textStyles ?? [])] };
  }
  return {
    title: readerText(db.getDiagramTitle?.() ?? ''),
    direction: db.getDirection?.() ?? null,
    vertices,
    edges,
    subgraphs,
    classDefs,
  };
}

function extract(diagram) {
  const { type, db } = diagram;
  if (type === 'sequence') return extractSequence(db);
  if (type === 'stateDiagram' || type === 'state') return extractState(db);
  if (type === 'flowchart-v2' || type === 'flowchart' || type === 'flowchart-elk') return extractFlowchart(db);
  return {};
}

function errorResult(err) {
  const message = String(err?.message ?? err);
  const out = { ok: false, error: message, errorName: err?.name ?? 'Error' };
  const m = /on line (\d+)/.exec(message);
  if (m) out.line = Number(m[1]);
  if (Array.isArray(err?.hash?.expected)) out.expected = err.hash.expected;
  return out;
}

async function check(src) {
  if (typeof src !== 'string') {
    return { ok: false, error: `input must be a string, got ${typeof src}`, errorName: 'TypeError' };
  }
  try {
    await mermaid.parse(src);
  } catch (err) {
    return errorResult(err);
  }
  let diagram;
  try {
    diagram = await mermaid.mermaidAPI.getDiagramFromText(src);
  } catch (err) {
    return errorResult(err);
  }
  try {
    return { ok: true, type: diagram.type, labels: extract(diagram) };
  } catch (err) {
    return { ok: true, type: diagram.type, labels: {}, extractError: String(err?.stack ?? err) };
  } finally {
    try { diagram.db.clear?.(); } catch { /* ignore */ }
  }
}

// ---------------------------------------------------------------------------------------------
async function main() {
  const input = readFileSync(0, 'utf8');
  let sources;
  try {
    sources = JSON.parse(input);
  } catch (err) {
    process.stderr.write(`mermaid_check: stdin is not JSON: ${err.message}\n`);
    process.exit(2);
  }
  if (!Array.isArray(sources)) {
    process.stderr.write('mermaid_check: stdin must be a JSON array of strings\n');
    process.exit(2);
  }
  const results = [];
  for (const src of sources) results.push(await check(src));
  const out = JSON.stringify(results);
  await new Promise((resolve, reject) => process.stdout.write(out + '\n', (e) => (e ? reject(e) : resolve())));
  process.exit(0);
}

await main();
