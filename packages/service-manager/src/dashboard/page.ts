/**
 * The dashboard page: one HTML document, inline CSS and script, no framework, no build step.
 * It listens to `/dashboard/events` (server-sent events, one snapshot a second; the browser
 * reconnects by itself) and draws the history as SVG polylines. Every text from the server goes
 * in through `textContent`, never as HTML: namespace names and patterns come from cache keys.
 */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@pm dashboard</title>
<link rel="icon" href="data:,">
<style>
  :root { font: 14px/1.4 system-ui, sans-serif; color: #1d232a; background: #f4f6f8; }
  body { margin: 0 auto; padding: 16px 24px; max-width: 1200px; }
  header { display: flex; align-items: baseline; gap: 16px; }
  h1 { font-size: 20px; margin: 0 0 12px; }
  h2 { font-size: 15px; margin: 20px 0 8px; }
  #status { color: #5b6670; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 12px; }
  .card { background: #fff; border: 1px solid #dde3e8; border-radius: 6px; padding: 12px; }
  .card .label { color: #5b6670; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .card .value { font-size: 24px; font-variant-numeric: tabular-nums; }
  svg { width: 100%; height: 48px; display: block; }
  polyline { fill: none; stroke: #2f6fde; stroke-width: 1.5; }
  table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #dde3e8; }
  th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #edf0f2; font-variant-numeric: tabular-nums; }
  th { font-weight: 600; color: #5b6670; font-size: 12px; }
  .ok { color: #1b7f3b; } .bad { color: #b42318; } .warn { color: #a15c00; }
</style>
</head>
<body>
<header><h1>@pm dashboard</h1><span id="status">connecting…</span></header>
<section><h2>Services</h2>
<table><thead><tr><th>service</th><th>state</th><th>health</th><th>critical</th><th>message</th></tr></thead><tbody id="services"></tbody></table>
</section>
<div id="panels"></div>
<template id="panel">
<section class="panel">
  <h2 class="title"></h2>
  <div class="cards">
    <div class="card"><div class="label">hit rate</div><div class="value" data-testid="hit-rate"></div><svg viewBox="0 0 300 48" preserveAspectRatio="none"><polyline class="hit-line"/></svg></div>
    <div class="card"><div class="label">memory</div><div class="value" data-testid="memory"></div><svg viewBox="0 0 300 48" preserveAspectRatio="none"><polyline class="memory-line"/></svg></div>
    <div class="card"><div class="label">hits / misses</div><div class="value"><span data-testid="hits"></span> / <span data-testid="misses"></span></div></div>
    <div class="card"><div class="label">entries</div><div class="value" data-testid="entries"></div></div>
  </div>
  <h2>Tiers</h2>
  <table><thead><tr><th>tier</th><th>state</th><th>hits</th><th>misses</th><th>errors</th><th>detail</th></tr></thead><tbody class="tiers"></tbody></table>
  <h2>Namespaces</h2>
  <table><thead><tr><th>namespace</th><th>entries</th><th>size</th><th>hits</th><th>misses</th><th>hit rate</th></tr></thead><tbody class="namespaces"></tbody></table>
  <h2>Recent invalidations</h2>
  <table><thead><tr><th>at</th><th>pattern</th><th>removed</th><th>source</th></tr></thead><tbody class="invalidations"></tbody></table>
</section>
</template>
<script>
"use strict";
const pct = (r) => (r === null || r === undefined ? '–' : (r * 100).toFixed(1) + '%');
const bytes = (n) => (n >= 1048576 ? (n / 1048576).toFixed(1) + ' MB' : (n / 1024).toFixed(1) + ' KB');
function cell(text, cls) { const td = document.createElement('td'); td.textContent = String(text); if (cls) td.className = cls; return td; }
function rows(tbody, items, render) {
  tbody.replaceChildren(...items.map((item) => { const tr = document.createElement('tr'); tr.append(...render(item, tr)); return tr; }));
}
function line(polyline, values, max) {
  const points = values.map((v, i) => [values.length < 2 ? 300 : (i / (values.length - 1)) * 300, v]).filter(([, v]) => v !== null);
  polyline.setAttribute('points', points.map(([x, v]) => x.toFixed(1) + ',' + (46 - (v / (max || 1)) * 44).toFixed(1)).join(' '));
}
const stateClass = (ok, state) => (ok ? 'ok' : state === 'degraded' || state === 'starting' ? 'warn' : 'bad');
function render(snapshot) {
  document.getElementById('status').textContent = 'updated ' + new Date(snapshot.at).toLocaleTimeString();
  rows(document.getElementById('services'), snapshot.services, (s, tr) => {
    tr.dataset.testid = 'service-' + s.name;
    return [cell(s.name), cell(s.state, s.state === 'running' ? 'ok' : 'bad'), cell(s.health ?? '–', stateClass(s.health === 'healthy', s.health)), cell(s.critical ? 'yes' : 'no'), cell(s.message ?? '')];
  });
  const container = document.getElementById('panels');
  while (container.children.length < snapshot.panels.length) container.append(document.getElementById('panel').content.cloneNode(true));
  snapshot.panels.forEach((panel, i) => {
    const el = container.children[i];
    const d = panel.data;
    el.querySelector('.title').textContent = panel.title;
    el.querySelector('[data-testid=hit-rate]').textContent = pct(d.hits + d.misses === 0 ? null : d.hits / (d.hits + d.misses));
    el.querySelector('[data-testid=memory]').textContent = bytes(d.sizeBytes) + ' of ' + bytes(d.maxBytes);
    el.querySelector('[data-testid=hits]').textContent = String(d.hits);
    el.querySelector('[data-testid=misses]').textContent = String(d.misses);
    el.querySelector('[data-testid=entries]').textContent = d.entryCount + ' of ' + d.maxEntries;
    line(el.querySelector('.hit-line'), panel.history.map((s) => s.hitRate), 1);
    line(el.querySelector('.memory-line'), panel.history.map((s) => s.sizeBytes), d.maxBytes);
    rows(el.querySelector('.tiers'), d.tiers, (t, tr) => {
      tr.dataset.testid = 'tier-' + t.kind;
      return [cell(t.name), cell(t.state, t.ok ? 'ok' : 'bad'), cell(t.hits ?? '–'), cell(t.misses ?? '–'), cell(t.errors), cell(t.detail ?? '')];
    });
    rows(el.querySelector('.namespaces'), d.namespaces, (n) => [cell(n.name), cell(n.entries), cell(bytes(n.sizeBytes)), cell(n.hits), cell(n.misses), cell(pct(n.hitRate))]);
    rows(el.querySelector('.invalidations'), d.invalidations, (v) => [cell(new Date(v.at).toLocaleTimeString()), cell(v.pattern), cell(v.count), cell(v.source)]);
  });
}
const events = new EventSource('dashboard/events');
events.onmessage = (message) => render(JSON.parse(message.data));
events.onerror = () => { document.getElementById('status').textContent = 'disconnected; retrying…'; };
</script>
</body>
</html>
`;
