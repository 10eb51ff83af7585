# A whole website that takes vault presentations, as a plain ASGI app (no framework): Example Books
# suggests books in the languages its visitors read, keeps what it was given for 30 days (here in a
# dict; use your database), erases it when the vault withdraws it, and says what it holds when asked.
#
#   pip install 'personal-vault[redis]' uvicorn   # redis only when you run more than one process
#   export SITE_KEY_SEED=$(python -c 'import secrets; print(secrets.token_hex(32))')  # keep it secret
#   SITE_ORIGIN=http://127.0.0.1:8000 uvicorn vault.site.examples.asgi_site:app --port 8000
#
# It serves /.well-known/vault-manifest.json, GET /vault/nonce, POST /vault/presentation and the
# manifest's revocation and access endpoints (vault.site.VaultEndpoints). The page's script fetches a
# nonce, asks the visitor's vault for a presentation, and posts it; the answer carries the site's signed
# acknowledgement (hand it back to the vault) and what `keep` returns. Your own ASGI app goes in `app=`.
import os

from vault.protocol import ClaimRequest, Controller, Purpose, SigningKey
from vault.site import InMemoryReplayStore, VaultEndpoints, build_manifest, held_record

ORIGIN = os.environ.get("SITE_ORIGIN", "http://127.0.0.1:8000")  # plain http only on loopback
site_key = SigningKey.from_seed(bytes.fromhex(os.environ["SITE_KEY_SEED"]))  # the same in every process
manifest = build_manifest(
    origin=ORIGIN, site_key=site_key, revocation_endpoint=ORIGIN + "/vault/revocation",
    access_endpoint=ORIGIN + "/vault/access",
    controller=Controller(name="Example Books", contact="privacy@books.example", privacy_policy=ORIGIN + "/"),
    purposes=[Purpose(id="suggestions", title="Book suggestions", retention="P30D", third_parties=(),
        concept="dpv:ProvidePersonalisedRecommendations", benefit="Books you can read come first.",
        description="We suggest books in the languages you read.",
        claims=(ClaimRequest(name="languages", required=True, why="We only suggest books you can read."),))],
)  # fmt: skip
held = {}  # what we hold: presentation jti -> (the visitor's pseudonymous subject, what we keep of it)


def keep(seen, session):
    held[seen.jti] = seen.subject, held_record(seen)  # held until the end of the purpose's retention
    return {"suggested": [f"a book in {language}" for language in seen.claims["languages"]]}


# A notice withdraws presentations (or some of their claims) from us: we erase them whole. We pass nothing
# on, so there is no third party to tell, and returning None says we did what it asked.
def withdraw(notice):
    for jti in notice.presentations if notice.site else ():
        held.pop(jti, None)


app = VaultEndpoints(
    manifest=manifest, site_key=site_key, replay=InMemoryReplayStore(), on_presentation=keep,
    on_notice=withdraw, stored_subject=lambda jti: held.get(jti, (None,))[0],  # whose presentation it was
    held=lambda request: [record for subject, record in held.values() if subject == request.subject],
)  # fmt: skip
