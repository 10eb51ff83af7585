"""The demo: a small shop that integrates `vault.site`, and what `vault demo` runs around it.

- `vault.demo.shop`: the shop, a Litestar app (`create_shop`): the reference integration of `vault.site`.
- `vault.demo.store`: what it keeps (each session's nonce, what it holds from vaults), in memory.
- `vault.demo.products`: its catalogue, and personalisation built from verified claims only.
- `vault.demo.pages`: its HTML; `shop_static/` has the page's ES module and stylesheet.
- `vault.demo.server`: running it with uvicorn on 127.0.0.1 (`python -m vault.demo.shop`, `ShopThread`).
- `vault.demo.environment` and `vault.demo.handshake`: the throw-away vault, daemon, native host and
  browser profile of `vault demo`, and the handshake it drives without a browser.
"""
