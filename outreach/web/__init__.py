"""The HTTP side: the aiohttp app and server, thin webhook handlers, the pages behind email links,
the app's typed keys, and the REST API (`api/`)."""
