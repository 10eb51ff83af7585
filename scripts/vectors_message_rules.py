"""Vectors of the site message's rules (SPEC.md, "Site message": schema, plain text, what each kind needs),
in vault/protocol/vectors_message/ beside vectors_message.py's; and the acknowledgements that carry
messages (vectors_acknowledgement/)."""

from __future__ import annotations

import repo_root  # noqa: F401 (puts the repository root on sys.path, for tests.example)
from vector_tools import ATTACKER_KEY, NOW, SITE_KEY, VAULT_SUBJECT, splice_json
from vectors_acknowledgement import ACK, ack, ack_vector
from vectors_message import BREACH, CHANGE, DELETION, PROPOSAL, message, message_vector, signed_message

from tests import example
from vault.protocol.message import MAX_BODY, MAX_MESSAGE_LIFETIME, MAX_TITLE


def message_rule_vectors() -> list[dict]:
    """Every message that breaks a rule beyond the token steps: `malformed`."""
    base = signed_message(PROPOSAL)
    return [*message_schema_vectors(base), *message_text_vectors(), *message_kind_vectors()]


def message_schema_vectors(base: str) -> list[dict]:
    return [
        message_vector(
            "unknown_member", "A member the protocol does not define.", "malformed", message(html="<b>")
        ),
        message_vector("missing_member", "No title.", "malformed", message(title=...)),
        message_vector(
            "duplicate_member",
            "url twice, the first on another origin.",
            "malformed",
            splice_json(base, 1, b'"url":', b'"url":"https://evil.example/","url":', SITE_KEY),
        ),
        message_vector(
            "purpose_null", "purpose is null (omit it instead).", "malformed", message(purpose=None)
        ),
        message_vector(
            "kind_unknown", "A kind that is not one of the four.", "malformed", message(kind="advert")
        ),
        message_vector(
            "title_too_long", f"A title of {MAX_TITLE + 1} characters.", "malformed", message(title="T" * 101)
        ),
        message_vector(
            "body_too_long", f"A body of {MAX_BODY + 1} characters.", "malformed", message(body="b" * 1001)
        ),
        message_vector("title_empty", "An empty title.", "malformed", message(title="")),
        message_vector(
            "purpose_trailing_line_break",
            "The purpose id followed by a line break (a pattern's $ may match before one).",
            "malformed",
            message(purpose="early-access\n"),
        ),
        message_vector(
            "claims_trailing_line_break",
            "A claim name followed by a line break.",
            "malformed",
            message(DELETION, claims=["sizes.shoe\n"]),
        ),
        message_vector(
            "claims_repeated",
            "sizes.shoe named twice.",
            "malformed",
            message(DELETION, claims=["sizes.shoe", "sizes.shoe"]),
        ),
    ]


def message_text_vectors() -> list[dict]:
    """Plain text only (SPEC.md, "Site message"): nothing that hides or reorders what the user reads."""
    return [
        message_vector(
            "title_line_break", "The title is one line.", "malformed", message(title="Early access\nto sales")
        ),
        message_vector(
            "body_carriage_return",
            "Line breaks are \\n alone.",
            "malformed",
            message(body="Early access.\r\nAsk us."),
        ),
        message_vector(
            "body_tab", "A tab is a control character.", "malformed", message(body="Early\taccess.")
        ),
        message_vector(
            "body_bell", "A control character (U+0007).", "malformed", message(body="Early access.\u0007")
        ),
        message_vector(
            "body_right_to_left_override",
            "U+202E reverses the text that follows (Trojan Source).",
            "malformed",
            message(body="Your order ships from \u202eexe.hctaw\u202c today."),
        ),
        message_vector(
            "title_isolate",
            "U+2066 (left-to-right isolate) in the title.",
            "malformed",
            message(title="Early \u2066access\u2069"),
        ),
        message_vector(
            "body_right_to_left_mark",
            "U+200F (right-to-left mark).",
            "malformed",
            message(body="Early\u200f access."),
        ),
        message_vector(
            "body_arabic_letter_mark",
            "U+061C (Arabic letter mark).",
            "malformed",
            message(body="Early\u061c access."),
        ),
        message_vector(
            "body_line_separator",
            "U+2028 (line separator): a line break that is not \\n.",
            "malformed",
            message(body="Early access.\u2028Ask us."),
        ),
        message_vector(
            "title_leading_space",
            "The title starts with white space.",
            "malformed",
            message(title=" Early access"),
        ),
        message_vector(
            "body_trailing_line_break",
            "The body ends with a line break.",
            "malformed",
            message(body="Early access.\n"),
        ),
        message_vector("body_only_space", "A body of white space.", "malformed", message(body="   ")),
        message_vector(
            "title_private_use",
            "A private-use character (U+E000).",
            "malformed",
            message(title="Early \ue000access"),
        ),
    ]


def message_kind_vectors() -> list[dict]:
    """What each kind needs, the lifetime and the link (SPEC.md, "Site message")."""
    return [
        message_vector("exp_equals_iat", "exp is not after iat.", "malformed", message(exp=NOW)),
        message_vector(
            "lifetime_too_long",
            "exp - iat is one second more than 30 days.",
            "malformed",
            message(exp=NOW + MAX_MESSAGE_LIFETIME + 1),
        ),
        message_vector(
            "proposal_without_url",
            "A proposal must say where the user can accept it.",
            "malformed",
            message(url=...),
        ),
        message_vector(
            "proposal_without_purpose",
            "A proposal must name the purpose it offers.",
            "malformed",
            message(purpose=...),
        ),
        message_vector(
            "proposal_url_other_origin",
            "A proposal whose url is on another origin.",
            "malformed",
            message(url="https://offers.example/early-access"),
        ),
        message_vector(
            "proposal_url_subdomain",
            "A proposal whose url is on a host that only starts like the site's.",
            "malformed",
            message(url="https://shop.example.evil.example/early-access"),
        ),
        message_vector(
            "proposal_url_with_query",
            "A proposal's url is an absolute path on the site, without query or fragment.",
            "malformed",
            message(url=example.ORIGIN + "/offers?id=1"),
        ),
        message_vector(
            "url_not_https",
            "A link over plain http to a public host.",
            "malformed",
            message(CHANGE, url="http://shop.example/changes"),
        ),
        message_vector(
            "url_javascript",
            "A javascript: link.",
            "malformed",
            message(CHANGE, url="javascript:alert(1)"),
        ),
        message_vector(
            "change_without_effective_at",
            "A change notice must say when the change takes effect.",
            "malformed",
            message(CHANGE, effective_at=...),
        ),
    ]


# --- acknowledgements carrying messages -----------------------------------------------------------------


def carried_message_ack_vectors() -> list[dict]:
    """Acknowledgements with `messages` (SPEC.md, "Acknowledgement"): at most two; each is verified on its own
    and one that is refused does not make the acknowledgement fail."""
    proposal, change = signed_message(PROPOSAL), signed_message(CHANGE)
    forged = message(key=ATTACKER_KEY)
    return [
        ack_vector(
            "valid_carries_one_message",
            "A deletion confirmation rides along with the acknowledgement.",
            "valid",
            ack(messages=[signed_message(DELETION)]),
        ),
        ack_vector(
            "valid_carries_two_messages",
            "A proposal and a change notice ride along: two, the most an acknowledgement carries.",
            "valid",
            ack(messages=[proposal, change]),
        ),
        ack_vector(
            "valid_carries_a_refused_message",
            "The carried message's signature is not the site's: the vault drops it, and the acknowledgement "
            "stands.",
            "valid",
            ack(messages=[forged]),
        ),
        ack_vector(
            "messages_three",
            "Three carried messages.",
            "malformed",
            ack(messages=[proposal, change, signed_message(BREACH)]),
        ),
        ack_vector("messages_null", "messages is null (omit it instead).", "malformed", ack(messages=None)),
        ack_vector(
            "messages_not_strings",
            "A carried message that is not a string.",
            "malformed",
            ack(messages=[PROPOSAL]),
        ),
    ]


assert ACK["aud"] == VAULT_SUBJECT  # carried messages are addressed to the acknowledgement's audience
