"""The demo shop's HTML: plain, accessible pages rendered on the server (every value escaped), and a
small ES module (shop_static/shop.js) that asks the vault. No external resources."""

from __future__ import annotations

import html
import time
from functools import cache
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

from vault.demo.products import Shown, unpersonalised
from vault.protocol.manifest import retention_seconds
from vault.words import count

if TYPE_CHECKING:
    from vault.demo.correspondence import AnsweredAccess
    from vault.demo.store import HeldPresentation, ReceivedNotice
    from vault.site import Manifest, ThirdParty

TEMPLATES = Path(__file__).parent / "templates"
SECURITY_HEADERS = {
    # Our own scripts and styles only. The extension's page API runs in the page's MAIN world from its
    # manifest, which a page's CSP does not restrict.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@cache
def _layout() -> Template:
    return Template((TEMPLATES / "layout.html").read_text(encoding="utf-8"))


def _page(title: str, main: str, current: str, scripts: str = "") -> str:
    marks = {f"current_{name}": "" for name in ("shop", "held", "privacy")}
    marks[f"current_{current}"] = ' aria-current="page"'
    return _layout().substitute(title=html.escape(title), main=main, scripts=scripts, **marks)


def e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def when(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))


def retention_words(duration: str) -> str:
    seconds = retention_seconds(duration)
    if seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} day{'s' if days != 1 else ''}"
    return duration


def claim_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def product_item(product: Shown) -> str:
    why = "".join(f"<li>{e(reason)}</li>" for reason in product.why)
    return (
        f'<li class="product" data-id="{e(product.id)}">'
        f'<div class="swatch swatch-{e(product.colour)}" aria-hidden="true"></div>'
        f"<h3>{e(product.name)}</h3><p>{e(product.description)}</p>"
        f'<p class="meta"><span class="price">€{product.price_eur}</span> · {e(product.sizes)}</p>'
        + (f'<ul class="why" aria-label="Why it is here">{why}</ul>' if why else "")
        + "</li>"
    )


def gpc_notice(received: bool) -> str:
    """What the shop says about this request's Global Privacy Control signal (read from the request's
    header alone, never stored)."""
    if received:
        return (
            '<p id="gpc" class="status" data-kind="ok">We received your browser\'s Global Privacy Control '
            "signal with this page, so we will not sell or share your personal data, nor use it for "
            "targeted advertising.</p>"
        )
    return (
        '<p id="gpc" class="status">Your browser sent no Global Privacy Control signal with this page. We do '
        "not sell your data either way.</p>"
    )


def shop_page(manifest: Manifest, *, gpc: bool = False) -> str:
    purpose = next(p for p in manifest.purposes if p.id == "recommendations")
    asked = ", ".join(f"{c.name}{'' if c.required else ' (optional)'}" for c in purpose.claims)
    products = "\n".join(product_item(p) for p in unpersonalised())
    main = f"""
<h1>Shoes that fit, without an account</h1>
{gpc_notice(gpc)}
<section class="panel" aria-labelledby="vault-heading">
  <h2 id="vault-heading">Personalise with your personal vault</h2>
  <p>With the Personal Vault extension, your own vault can tell us a few verified facts, only if you
  agree: {e(asked)}. We use them for {e(purpose.title.lower())}, keep them
  {e(retention_words(purpose.retention))} at most, and delete them as soon as you take them back.</p>
  <p id="vault-status" class="status" role="status" aria-live="polite">Looking for your personal vault…</p>
  <noscript><p class="status">This page needs JavaScript to talk to your vault; the shop works without
  it, just not personalised.</p></noscript>
  <p><button id="personalise" type="button" hidden>Personalise with my vault</button></p>
  <div id="used" hidden>
    <h3>What we used</h3>
    <p>Only these facts, as your vault signed them. Nothing else about you reached us.</p>
    <dl id="used-claims"></dl>
    <p id="not-shared" hidden></p>
    <p id="promise"></p>
  </div>
</section>
<section aria-labelledby="products-heading">
  <h2 id="products-heading">Our shoes</h2>
  <p id="products-note">Our whole range, in our own order.</p>
  <ul id="products" class="products">
{products}
  </ul>
  <div id="hidden-products" hidden>
    <h3>Not shown to you</h3>
    <ul id="hidden-list"></ul>
  </div>
</section>"""
    return _page("Shop", main, "shop", '<script type="module" src="/static/shop.js"></script>')


def held_page(
    held: list[HeldPresentation], notices: list[ReceivedNotice], answered: list[AnsweredAccess] = ()
) -> str:
    if held:
        rows = "\n".join(
            "<tr>"
            f"<td>{e(when(h.received_at))}</td>"
            f'<td><code title="{e(h.subject)}">…{e(h.subject[-12:])}</code></td>'
            f"<td>{e(h.purpose)}</td>"
            "<td><dl class='claims'>"
            + "".join(f"<dt>{e(k)}</dt><dd>{e(claim_value(v))}</dd>" for k, v in h.claims.items())
            + f"</dl></td><td>{e(when(h.keep_until))}</td>"
            f"<td>{e(', '.join(h.passed_to) or 'nobody')}</td>"
            "</tr>"
            for h in held
        )
        table = f"""
<table id="held">
  <caption>{count(len(held), "presentation")} from personal vaults</caption>
  <thead><tr><th scope="col">Received</th><th scope="col">Visitor (pseudonym)</th>
  <th scope="col">Purpose</th><th scope="col">Claims</th><th scope="col">Kept until</th>
  <th scope="col">Passed on to</th></tr></thead>
  <tbody>
{rows}
  </tbody>
</table>"""
    else:
        table = '<p id="held-empty" class="status">We hold nothing from any personal vault.</p>'
    if notices:
        items = "\n".join(f"<li>{_notice_line(n)}</li>" for n in notices)
        received = f'<ul id="notices">{items}</ul>'
    else:
        received = "<p>None yet.</p>"
    main = f"""
<h1>What we hold about you</h1>
<p>Everything this demo shop's server keeps from personal vaults, right now. (A real shop would show
each visitor only their own.) Each visitor is known to us only by a pseudonym that their vault made for
this shop alone. We delete a presentation when the vault withdraws it, and when the date we promised
passes.</p>
{table}
<p><a href="/held">Refresh</a></p>
<h2>Withdrawals and erasure requests received</h2>
{received}
<h2>Questions from vaults answered</h2>
{_answered_list(answered)}"""
    return _page("What we hold about you", main, "held")


def _answered_list(answered: list[AnsweredAccess]) -> str:
    if not answered:
        return "<p>None yet.</p>"
    items = "\n".join(
        f"<li>{e(when(a.received_at))}: …{e(a.subject[-12:])} asked what we hold"
        f"{' for ' + e(', '.join(a.purposes)) if a.purposes else ''}; our signed statement listed "
        f"{e(', '.join(a.holdings)) if a.holdings else 'nothing'}.</li>"
        for a in answered
    )
    return f'<ul id="answered">{items}</ul>'


def offer_page(manifest: Manifest) -> str:
    """Where our proposal leads: what we offer, and a script that asks the vault (the normal prompt)."""
    from vault.demo.manifest import SUGGESTIONS

    purpose = next((p for p in manifest.purposes if p.id == SUGGESTIONS), None)
    if purpose is None:
        main = '<h1>Suggestions for your interests</h1><p class="status">We do not offer this now.</p>'
        return _page("Suggestions", main, "shop")
    asked = ", ".join(c.name for c in purpose.claims)
    main = f"""
<h1>{e(purpose.title)}</h1>
<section class="panel" aria-labelledby="offer-heading" data-purpose="{e(purpose.id)}">
  <h2 id="offer-heading">{e(purpose.benefit)}</h2>
  <p>{e(purpose.description)} We ask your vault for {e(asked)}, keep it
  {e(retention_words(purpose.retention))} at most, pass it to nobody, and delete it as soon as you take it
  back. Your vault asks you first; you can say no.</p>
  <p id="vault-status" class="status" role="status" aria-live="polite">Looking for your personal vault…</p>
  <p><button id="share-interests" type="button" hidden>Ask my vault again</button></p>
  <div id="suggested" hidden>
    <h3>Suggested for you</h3>
    <ul id="suggestions"></ul>
    <p id="promise"></p>
  </div>
</section>"""
    return _page("Suggestions", main, "shop", '<script type="module" src="/static/offers.js"></script>')


def _notice_line(n: ReceivedNotice) -> str:
    what = f"claims {', '.join(n.claims)} of" if n.claims else "everything in"
    line = (
        f"{e(when(n.received_at))}: {'erasure request' if n.erasure else 'withdrawal'} for {e(n.purpose)} "
        f"from …{e(n.subject[-12:])}, naming {e(what)} {count(n.presentations, 'presentation')}; "
    )
    line += f"we deleted {n.deleted}." if n.site else "from our third parties only: we keep ours."
    told = "; ".join(
        f"{recipient}: {outcome.replace('_', ' ')}" for recipient, outcome in n.recipients.items()
    )
    return line + (f" Forwarded to {e(told)}." if told else "")


_ROLES = {
    "dpv:Processor": "processes them for us",
    "dpv:ThirdParty": "uses them for its own ends",
    "dpv:JointDataControllers": "decides with us what they are used for",
}


def _third_party(t: ThirdParty) -> str:
    return (
        f'<li><a href="{e(t.privacy_policy)}">{e(t.name)}</a> ({e(t.country)}; {e(_ROLES[t.role])}) '
        f"receives {e(', '.join(t.claims))}, {'always' if t.required else 'only if you allow it'}: "
        f"{e(t.why)}</li>"
    )


def privacy_page(manifest: Manifest) -> str:
    sections = []
    for purpose in manifest.purposes:
        claims = "".join(
            f"<li><code>{e(c.name)}</code> ({'required' if c.required else 'optional'}): {e(c.why)}</li>"
            for c in purpose.claims
        )
        others = "".join(_third_party(t) for t in purpose.third_parties)
        also = f"<p>Also received by:</p><ul>{others}</ul>" if others else "<p>Seen by nobody else.</p>"
        sections.append(
            f"<section><h2>{e(purpose.title)}</h2><p>{e(purpose.description)}</p>"
            f"<p><strong>For you:</strong> {e(purpose.benefit)}</p><ul>{claims}</ul>"
            f"<p>Kept {e(retention_words(purpose.retention))} at most.</p>{also}"
            "</section>"
        )
    main = f"""
<h1>Privacy</h1>
<p>{e(manifest.controller.name)} ({e(manifest.controller.contact)}) asks your personal vault for the
facts below, never for raw data. You can take them back at any time from your vault, from us or from
one of the third parties below alone; your vault tells us at <code>{e(manifest.revocation_endpoint)}</code>,
we delete them (or pass your withdrawal on to that third party) and confirm it to your vault.</p>
{"".join(sections)}"""
    return _page("Privacy", main, "privacy")
