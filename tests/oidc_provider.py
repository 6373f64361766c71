"""A real OpenID Connect provider for the tests, served over HTTP on 127.0.0.1 in a thread.

It speaks the authorization-code flow the way Microsoft Entra ID and Google Workspace do:
discovery, JWKS, an authorize endpoint that sends the browser back with a code, and a token
endpoint that checks the client's secret and returns an RS256-signed ID token (signed with
joserfc). Its knobs turn it hostile: another issuer, a forged signature, a wrong nonce, an
expired token, an unverified email.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

CLIENT_ID = "case-audit-tests"
CLIENT_SECRET = "provider-test-secret"
KEY_ID = "test-signing-key"


@dataclass
class Provider:
    """The provider's state, and the knobs a test turns before a sign-in."""

    url: str = ""
    user: dict[str, Any] = field(
        default_factory=lambda: {
            "sub": "entra-0001",
            "email": "sam.taylor@example-council.gov.uk",
            "email_verified": True,
            "name": "Sam Taylor",
        }
    )
    issuer_in_token: str | None = None  # another issuer in the ID token
    issuer_in_metadata: str | None = None  # another issuer in the discovery document
    nonce_in_token: str | None = None  # a nonce other than the one the client sent
    forge_signature: bool = False  # sign with a key the JWKS does not hold
    expired: bool = False  # an ID token whose exp has passed
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": KEY_ID})
    )
    forger: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": KEY_ID})
    )

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = dict(self.user) | {
            "iss": self.issuer_in_token or self.url,
            "aud": CLIENT_ID,
            "iat": now - (7200 if self.expired else 0),
            "exp": now - 3600 if self.expired else now + 300,
            "nonce": self.nonce_in_token or nonce,
        }
        key = self.forger if self.forge_signature else self.key
        return jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, key)


def build_provider(provider: Provider) -> Flask:
    """The provider's web app."""
    app = Flask("test_oidc_provider")

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Any:
        return jsonify(
            issuer=provider.issuer_in_metadata or provider.url,
            authorization_endpoint=f"{provider.url}/authorize",
            token_endpoint=f"{provider.url}/token",
            jwks_uri=f"{provider.url}/jwks",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        )

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify(keys=[provider.key.as_dict(private=False)])

    @app.get("/authorize")
    def authorize() -> Any:
        args = request.args
        if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
            abort(400)
        if "openid" not in args.get("scope", "").split():
            abort(400)
        code = secrets.token_urlsafe(16)
        provider.codes[code] = {
            "nonce": args.get("nonce", ""),
            "redirect_uri": args["redirect_uri"],
        }
        # The person is already signed in at their organisation: straight back with a code.
        query = urlencode({"code": code, "state": args.get("state", "")})
        return redirect(f"{args['redirect_uri']}?{query}")

    @app.post("/token")
    def token() -> Any:
        auth = request.authorization
        client_id = auth.username if auth else request.form.get("client_id")
        secret = auth.password if auth else request.form.get("client_secret")
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            return jsonify(error="invalid_client"), 401
        grant = provider.codes.pop(request.form.get("code", ""), None)  # each code once
        if (
            request.form.get("grant_type") != "authorization_code"
            or grant is None
            or grant["redirect_uri"] != request.form.get("redirect_uri")
        ):
            return jsonify(error="invalid_grant"), 400
        return jsonify(
            access_token=secrets.token_urlsafe(24),
            token_type="Bearer",
            expires_in=300,
            id_token=provider.id_token(grant["nonce"]),
        )

    return app


@contextmanager
def running_provider() -> Iterator[Provider]:
    """Serve a fresh provider on a free 127.0.0.1 port for the length of the block."""
    provider = Provider()
    server = make_server("127.0.0.1", 0, build_provider(provider), threaded=True)
    provider.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(timeout=10)
