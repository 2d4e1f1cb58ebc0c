"""SECRET_KEY_FALLBACKS for Flask before 3.1, as docs/flask.md shows it (tested by the oracle).

Flask 3.1.1+ reads SECRET_KEY_FALLBACKS itself; on older Flask this session interface does the
same: itsdangerous (2.0+) takes a list of keys, oldest to newest, signs with the last and verifies
with any.
"""
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class RotatingSessionInterface(SecureCookieSessionInterface):
    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        keys = [*(app.config.get("SECRET_KEY_FALLBACKS") or []), app.secret_key]
        return URLSafeTimedSerializer(
            keys,
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method},
        )
