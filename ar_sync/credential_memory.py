"""Remember credentials EnKash refused, so a stale password is never tried night after night.

EnKash locks an account after three wrong passwords in a row. A password that changed on the portal
but not in the block would be tried once per night, and the third night would lock the account. This
``TokenGuard`` keeps, in the run ledger, a salted scrypt fingerprint of every refused set of
credentials (never the secret) and refuses, before any request leaves, to try the same set again.
A new password (or client secret, user, host, seller) has another fingerprint and is tried; once a
token is granted, the seller's memory is cleared.
"""

from __future__ import annotations

import os

from ar_sync.run_ledger import RunLedger
from enkash_ar.auth import Fingerprint
from enkash_ar.errors import AuthenticationError


class RefusedCredentialsMemory:
    """A ``TokenGuard`` backed by the run ledger, for one seller.

    Example:
        >>> memory = RefusedCredentialsMemory(RunLedger(":memory:"), "CEKSANDBX1")
        >>> memory.before_token_request(lambda salt: "fingerprint")  # nothing refused yet: no error
    """

    def __init__(self, ledger: RunLedger, seller_id: str) -> None:
        self.ledger = ledger
        self.seller_id = seller_id

    def before_token_request(self, fingerprint: Fingerprint) -> None:
        """Refuse to send credentials whose fingerprint matches one EnKash refused before."""
        for refused in self.ledger.refused_credentials(self.seller_id):
            if fingerprint(refused.salt) == refused.fingerprint:
                raise AuthenticationError(
                    f"getAuthenticationToken not sent: EnKash refused these same credentials for seller "
                    f"{self.seller_id} on {refused.refused_at} ({refused.reason or 'no reason given'}), and "
                    "they have not changed since. Another wrong attempt could lock the account (3 in a "
                    "row do). Update the password or client secret (the credentials block, or "
                    "ENKASH_PASSWORD / ENKASH_CLIENT_SECRET); if the same credentials are valid again "
                    "(e.g. the account was unlocked), run `enkash-ar credentials forget-refused`."
                )

    def token_refused(self, fingerprint: Fingerprint, error: AuthenticationError) -> None:
        """Remember the refused credentials by a fresh salted fingerprint."""
        salt = os.urandom(16)
        self.ledger.remember_refused(self.seller_id, salt, fingerprint(salt), str(error)[:500])

    def token_granted(self, fingerprint: Fingerprint) -> None:
        """Credentials work: whatever was refused before no longer matters."""
        if self.ledger.refused_credentials(self.seller_id):
            self.ledger.forget_refused(self.seller_id)
