/**
 * The page at `/`: says the head is running and lists its nodes through the API (with the
 * session cookie a one-time login link set). The real dashboard replaces it.
 */
import { randomBytes } from 'node:crypto';

/** The HTML and the Content-Security-Policy that lets only its own inline script run. */
export function dashboardPage(): { html: string; csp: string } {
  const nonce = randomBytes(16).toString('base64');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Orrery head</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}</style>
</head><body>
<h1>Orrery head is running</h1>
<p id="msg">Loading nodes…</p>
<table id="nodes" hidden><thead><tr><th>node</th><th>backend</th><th>state</th><th>resources</th><th>available</th></tr></thead><tbody></tbody></table>
<script nonce="${nonce}">
fetch('/api/nodes')
  .then((r) => (r.ok ? r.json() : Promise.reject(new Error(r.status === 401 ? 'open the login link that orrery start printed, or get one with orrery dashboard --url' : 'HTTP ' + r.status))))
  .then((nodes) => {
    const body = document.querySelector('#nodes tbody');
    for (const n of nodes) {
      const tr = document.createElement('tr');
      for (const v of [n.nodeId, n.backend, n.state, JSON.stringify(n.resources), JSON.stringify(n.available)]) {
        const td = document.createElement('td');
        td.textContent = String(v);
        tr.append(td);
      }
      body.append(tr);
    }
    document.getElementById('msg').textContent = nodes.length + ' node(s)';
    document.getElementById('nodes').hidden = false;
  })
  .catch((e) => (document.getElementById('msg').textContent = 'Cannot list nodes: ' + e.message));
</script></body></html>`;
  return {
    html,
    csp: `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'`,
  };
}
