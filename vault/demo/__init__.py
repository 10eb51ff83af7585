"""The demo: a small shop that integrates `vault.site`, its analytics partner, and what `vault demo` runs
around them.

- `vault.demo.shop`: the shop's web app (`create_shop`); `vault.demo.integration`: `Shop`, what it does
  with each token and notice (the reference integration of `vault.site`); `vault.demo.manifest`: what it
  publishes; `vault.demo.correspondence`: what it answers when a vault asks what it holds, and what it
  writes to its visitors (a change notice, a proposal).
- `vault.demo.partner`: Demo Analytics, the shop's third party, a separate service the shop passes the
  claims the user allowed it; `vault.demo.partner_api`: what the two say to each other.
- `vault.demo.store`: what the shop keeps (each session's nonce, what it holds from vaults), in memory.
- `vault.demo.products`: its catalogue, and personalisation built from verified claims only.
- `vault.demo.pages`: its HTML; `shop_static/` has its pages' ES modules (shop.js, offers.js, and page.js
  which they share) and stylesheet.
- `vault.demo.server`: running them on 127.0.0.1 (`python -m vault.demo.shop`, `ShopThread`;
  `python -m vault.demo.partner`, `PartnerProcess`).
- `vault.demo.environment` and `vault.demo.handshake`: the throw-away vault, daemon, partner, native host
  and browser profile of `vault demo`, and the handshake it drives without a browser;
  `vault.demo.relationship`: its later steps (the inbox, a proposal accepted, asking what the shop holds).
"""
