"""Why a request was not answered with a token: one vocabulary for the policy, the service, the daemon and
the ledger of prompts, and the one place that decides what a web page may learn of it.

A page is told one of three coarse reasons (PageReason). A mistake of the site's own (its manifest, its
purpose, the origin it asked from) is `bad_request` with our message, so the site can fix it; an expired
prompt is `expired`, so the page can ask again; everything else is the user's choice or their profile,
which a page must not be able to tell apart: `denied`, in words that say nothing more.
"""

from enum import StrEnum


class PageReason(StrEnum):
    DENIED = "denied"
    BAD_REQUEST = "bad_request"
    EXPIRED = "expired"


class DenialReason(StrEnum):
    # The site's own doing: the page hears bad_request, with our message.
    UNKNOWN_PURPOSE = "unknown_purpose"
    UNDECLARED_CLAIM = "undeclared_claim"
    MISSING_REQUIRED = "missing_required"
    WRONG_ORIGIN = "wrong_origin"
    # Nobody answered in time: the page hears expired.
    PROMPT_EXPIRED = "prompt_expired"
    # The user's rules, profile or answer: the page hears only denied.
    PURPOSE_KIND_DENIED = "purpose_kind_denied"
    UNKNOWN_CLAIM = "unknown_claim"
    CLAIM_UNAVAILABLE = "claim_unavailable"
    NEVER_SHARED = "never_shared"
    DECLINED = "declined"
    NOTHING_TO_SHARE = "nothing_to_share"
    USER_DENIED = "user_denied"
    REQUIRED_CLAIM_DROPPED = "required_claim_dropped"
    REQUIRED_RECIPIENT_DROPPED = "required_recipient_dropped"
    # An answer naming claims that were not asked about: refused as invalid input, never an outcome.
    BAD_ANSWER = "bad_answer"

    def for_page(self, message: str) -> tuple[PageReason, str]:
        """The reason and message a web page may see, given our full message for the user."""
        if self in _SITE_MISTAKES:
            return PageReason.BAD_REQUEST, message
        if self is DenialReason.PROMPT_EXPIRED:
            return PageReason.EXPIRED, "the request waited too long; ask again"
        return PageReason.DENIED, "the user did not share this"


_SITE_MISTAKES = frozenset(
    {
        DenialReason.UNKNOWN_PURPOSE,
        DenialReason.UNDECLARED_CLAIM,
        DenialReason.MISSING_REQUIRED,
        DenialReason.WRONG_ORIGIN,
    }
)
