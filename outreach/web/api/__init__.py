"""The versioned REST API under /api/v1: other systems read answers, results and exports.

`outreach.web.api.application.add_api_routes(app)` mounts it on the service's aiohttp app (which holds
the services under `outreach.web.keys.SERVICES`; they are read at request time). This file imports
nothing: a module of the API (the CLI's `token` uses `auth`) loads without aiohttp and the routes.
"""
