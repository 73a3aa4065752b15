"""The officials' pages under /admin (issue 21): server-rendered with jinja2, translated with Babel
catalogs (pl, en), every asset served by the service itself (no build step, no CDN)."""
