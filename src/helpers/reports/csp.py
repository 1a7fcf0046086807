"""The content security policy of every exported page (reports, reports/index.html, the atlas).

Pages are opened from disk, offline, and may be shared; their text comes partly from data files. The policy
(a `<meta http-equiv="Content-Security-Policy">` before any script) is the second line of defence after
escaping (helpers.present.safe_text): even if markup slipped through, the page can load nothing from the network
and run no script but its own.

- `default-src 'none'`: no fetch/XHR/WebSocket (`connect-src`), no frames, no objects, no media, no
  workers, no fonts or images from anywhere but `data:`/`blob:` URLs (inline images of notebook outputs,
  the PNG/SVG export of a chart); `base-uri` and `form-action` are `'none'` as well.
- `script-src` lists the sha256 of each script the page itself carries (the Vega bundle, the embed call,
  the atlas script) and nothing else: no `'unsafe-inline'`, so injected `<script>` elements, inline event
  handlers (`onerror=`...) and `javascript:` URLs do not run; no `'unsafe-eval'`, see below.
- `style-src 'unsafe-inline'`: nbconvert's and Vega's styles are inline `<style>` and `style=""`; styles
  cannot run script, and with images and fonts limited to `data:`/`blob:` they cannot reach the network.
- A policy in a `<meta>` element cannot set `frame-ancestors` or reporting; a page opened from disk has no
  HTTP headers to carry them. A `<meta http-equiv="refresh">` is not governed by CSP at all: only escaping
  keeps it out.

Vega and `new Function`: Vega compiles its expressions (filters, tooltips, signals) to JavaScript with
`Function(...)`, which needs `'unsafe-eval'` and would let any string that reaches the expression parser run
as code. Vega's CSP-safe expression interpreter (vega-interpreter) evaluates the parsed expression tree
instead and refuses `Function`, `eval`, `setTimeout` and `setInterval`. vl-convert's bundle (vega-embed 7)
already includes it, and vega-embed uses it when the embed options say `ast: true`, so every page passes
`VEGA_EMBED_OPTIONS` and the policy has no `'unsafe-eval'`. The cost is speed: the interpreter is slower than
compiled expressions, which matters only for pages with tens of thousands of marks (the atlas is measured by
its browser test). The other `Function` in the bundle is d3-dsv's, which builds the row objects of CSV data
(the atlas keeps its data inline as CSV to stay small): `VEGA_EMBED_WRAPPER`, appended to the bundle, wraps
`vegaEmbed` so that inline CSV/TSV datasets of the compiled spec are split into rows by a plain loop and
handed to Vega as JSON values (same columns, same `parse` types) before Vega sees them.

Pages with shared assets (`report --shared-assets`) load the Vega bundle and the embed script from files in
`assets/` next to them. A hash cannot allow a file on a page opened from disk: a hash allows an external
script only together with an `integrity` attribute, and Chromium refuses integrity checks of file: URLs
("requires the request to be CORS enabled"). `'self'` would allow every script file on the disk. So such a
page carries one inline loader, allowed by its hash, that inserts the two asset scripts, and the policy adds
`'strict-dynamic'` (CSP level 3): scripts inserted by an allowed script run, while scripts in the page's
markup (`<script src=...>` or inline) still need a hash, which an injected one does not have. The trust
reaches whatever the assets insert (they insert nothing) and whoever can write `assets/` (who can write the
pages themselves too). Browsers without CSP level 3 (none current) would block the assets.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable

VEGA_EMBED_OPTIONS = {"ast": True}
VEGA_EMBED_WRAPPER = r"""
(function () {
  // helpers.reports.csp: inline CSV/TSV data as JSON values, so that d3-dsv never builds rows with `new Function`.
  var embed = window.vegaEmbed;
  function rows(text, delimiter) {
    var out = [], row = [], field = "", quoted = false, i = 0, c;
    for (; i < text.length; i++) {
      c = text[i];
      if (quoted) {
        if (c !== '"') { field += c; } else if (text[i + 1] === '"') { field += '"'; i++; } else { quoted = false; }
      } else if (c === '"' && field === "") { quoted = true;
      } else if (c === delimiter) { row.push(field); field = "";
      } else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") { i++; }
        row.push(field); out.push(row); row = []; field = "";
      } else { field += c; }
    }
    if (field !== "" || row.length) { row.push(field); out.push(row); }
    return out;
  }
  function objects(text, delimiter) {
    var all = rows(text, delimiter), columns = all.shift() || [];
    return all.map(function (row) {
      var item = {};
      columns.forEach(function (name, j) { item[name] = row[j] === undefined ? "" : row[j]; });
      return item;
    });
  }
  var DELIMITERS = {csv: ",", tsv: "\t"};
  function asJson(spec) {
    (spec.data || []).forEach(function (data) {
      var format = data.format || {}, delimiter = format.type === "dsv" ? format.delimiter : DELIMITERS[format.type];
      if (typeof data.values === "string" && delimiter) {
        data.values = objects(data.values, delimiter);
        data.format = Object.assign({}, format, {type: "json"});
        delete data.format.delimiter;
      }
    });
    (spec.marks || []).forEach(asJson);
    return spec;
  }
  window.vegaEmbed = function (element, spec, options) {
    var opts = Object.assign({}, options), patch = opts.patch;
    if (patch === undefined || typeof patch === "function") {
      opts.patch = function (compiled) { compiled = asJson(compiled); return patch ? patch(compiled) : compiled; };
    }
    return embed(element, spec, opts);
  };
})();
"""
DIRECTIVES = (
    "default-src 'none'",
    "script-src {scripts}",
    "style-src 'unsafe-inline'",
    "img-src data: blob:",
    "font-src data:",
    "connect-src 'none'",
    "frame-src 'none'",
    "worker-src 'none'",
    "object-src 'none'",
    "media-src 'none'",
    "manifest-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
)
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.DOTALL | re.IGNORECASE)
_DATA_TYPE = re.compile(r"""\btype\s*=\s*["']?application/(?:ld\+)?json""", re.IGNORECASE)
_HEAD = re.compile(r"<meta\s+charset=[^>]*>|<head\b[^>]*>", re.IGNORECASE)


def script_hash(text: str) -> str:
    """The CSP source expression allowing one inline script whose content is exactly `text`."""
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def policy(scripts: Iterable[str] = (), *, strict_dynamic: bool = False) -> str:
    """The policy allowing exactly the inline `scripts` (their text content) and nothing from the network;
    with `strict_dynamic`, also the scripts those insert (shared assets, see the module doc)."""
    allowed = " ".join(dict.fromkeys(script_hash(text) for text in scripts)) or "'none'"
    if strict_dynamic and scripts:
        allowed += " 'strict-dynamic'"
    return "; ".join(directive.format(scripts=allowed) for directive in DIRECTIVES)


def meta(scripts: Iterable[str] = (), *, strict_dynamic: bool = False) -> str:
    """The `<meta>` element carrying `policy(scripts, strict_dynamic=...)`."""
    content = html.escape(policy(scripts, strict_dynamic=strict_dynamic), quote=False)
    return f'<meta http-equiv="Content-Security-Policy" content="{content}">'


def inline_scripts(page: str) -> list[str]:
    """The text of every inline script of `page` that a browser would run (JSON data blocks left out)."""
    return [body for attributes, body in _SCRIPT.findall(page) if not _DATA_TYPE.search(attributes)]


def with_policy(page: str, scripts: Iterable[str] | None = None) -> str:
    """`page` with the policy's `<meta>` right after `<meta charset>` (or `<head>`), before any script.

    `scripts=None` allows every inline script found in the page: only for pages whose every script is the
    project's own and whose data-file text is escaped (the atlas, the index). Reports list theirs.
    """
    allowed = inline_scripts(page) if scripts is None else list(scripts)
    found = _HEAD.search(page)
    if found is None:
        raise ValueError("page without <head>: nowhere to put the content security policy")
    return f"{page[:found.end()]}\n{meta(allowed)}{page[found.end():]}"
