"""Two whole sites built on `vault.site.VaultEndpoints`, each in at most 30 lines of its own code (a test
counts them): `asgi_site` (plain ASGI) and `litestar_site` (mounted beside a Litestar app's own routes). Run
either with uvicorn; each file says how."""
