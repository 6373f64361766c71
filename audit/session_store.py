"""Flask sessions kept in the database once signed in; before that, a signed cookie.

A signed cookie cannot be taken back: after signing out, a copied cookie still worked. So a
signed-in session lives in ``auth_session`` (``audit/data/sessions.py``) and the cookie holds
only a random token: ending a session (sign-out, password change, deactivation, "sign out
everywhere", idle timeout) ends it for a replayed cookie too.

Before sign-in there is nothing worth taking back: the sign-in form's CSRF token, a flashed
message, the state of a single sign-on or of a half-done one-time code. That is kept in a
cookie signed with the instance's secret key and dated (it lapses after the idle time-out),
so a page view by someone not signed in writes nothing to the database: a stranger cannot
grow the session table by asking for /sign-in.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, Request, Response
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer
from ua_parser import parse as parse_user_agent
from werkzeug.datastructures import CallbackDict

from audit.data import sessions


class ServerSession(CallbackDict, SessionMixin):  # type: ignore[type-arg]
    """A session dict that remembers its token and the user it was opened for."""

    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        token: str | None = None,
        user_id: int | None = None,
    ) -> None:
        def on_update(session: ServerSession) -> None:
            session.modified = True

        super().__init__(initial or {}, on_update)
        self.token = token
        self.opened_for = user_id
        self.modified = False
        self.anonymous_cookie = False  # opened from a signed cookie, not the database


class DatabaseSessionInterface(SessionInterface):
    """Load and store sessions in the app's SQLite file, one row per session."""

    serializer = TaggedJSONSerializer()
    # Anonymous cookies are at most this long: a sign-in form's state is a few hundred bytes.
    ANONYMOUS_MAX_CHARS = 3000

    def _limits(self, app: Flask) -> dict[str, Any]:
        return {"idle": app.config["SESSION_IDLE"], "lifetime": app.permanent_session_lifetime}

    def _signer(self, app: Flask) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            app.secret_key,  # type: ignore[arg-type]
            salt="case-audit-anonymous-session",
            serializer=self.serializer,
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
        )

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        """Return the stored session the cookie names, or a new empty one."""
        from audit.views import get_db

        token = request.cookies.get(self.get_cookie_name(app))
        if token and "." in token and len(token) <= self.ANONYMOUS_MAX_CHARS:
            # Signed, not stored: the state of someone not yet signed in.
            max_age = app.config["SESSION_IDLE"].total_seconds()
            try:
                data = self._signer(app).loads(token, max_age=max_age)
            except (BadSignature, ValueError):
                return ServerSession()
            if not isinstance(data, dict) or data.get("user_id") is not None:
                return ServerSession()
            session = ServerSession(data)
            session.anonymous_cookie = True
            return session
        if token and len(token) < 100:
            found = sessions.load(get_db(), token, **self._limits(app))
            if found is not None:
                try:
                    data = self.serializer.loads(found.data)
                except ValueError:
                    data = {}
                return ServerSession(data, token, found.user_id)
        return ServerSession()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Store the session, starting a new one (new token) whenever the user changes."""
        from flask import request

        from audit.views import get_db

        assert isinstance(session, ServerSession)
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        if not session:
            if session.token is not None:
                sessions.end(get_db(), session.token)
            if session.token is not None or session.anonymous_cookie:
                response.delete_cookie(name, domain=domain, path=path)
            return
        user_id = session.get("user_id")
        if user_id is None:
            # Not signed in: nothing is written to the database, the state goes in the cookie.
            if session.token is not None:
                sessions.end(get_db(), session.token)  # signed out, a message flashed after
                session.token = None
            elif session.anonymous_cookie and not session.modified:
                return
            value = self._signer(app).dumps(dict(session))
            if len(value) > self.ANONYMOUS_MAX_CHARS:
                return  # never happens with the app's own keys; refuse rather than store
            self._set_cookie(app, response, value, expires=None)
            return
        db = get_db()
        if session.token is not None and user_id != session.opened_for:
            # Signing in (or out) gets a new token: a token planted before sign-in is useless.
            sessions.end(db, session.token)
            session.token = None
        data = self.serializer.dumps(dict(session))
        if session.token is None:
            session.token = sessions.create(
                db,
                user_id=user_id,
                data=data,
                user_agent=request.headers.get("User-Agent", ""),
                address=request.remote_addr or "",
                **self._limits(app),
            )
            session.opened_for = user_id
        elif session.modified:
            if not sessions.save(db, session.token, data):
                return  # ended by another request meanwhile: do not bring it back
        else:
            return
        self._set_cookie(app, response, session.token, self.get_expiration_time(app, session))

    def _set_cookie(self, app: Flask, response: Response, value: str, expires: Any) -> None:
        """Set the session cookie with the app's cookie settings (HttpOnly, SameSite, ...)."""
        response.set_cookie(
            self.get_cookie_name(app),
            value,
            expires=expires,
            httponly=self.get_cookie_httponly(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            partitioned=self.get_cookie_partitioned(app),
        )
        response.vary.add("Cookie")


def browser_name(user_agent: str) -> str:
    """Describe a browser for a person ("Firefox 128 on Windows"), from its User-Agent."""
    if not user_agent:
        return "Unknown browser"
    parsed = parse_user_agent(user_agent)
    agent = parsed.user_agent
    name = "Unknown browser"
    if agent is not None and agent.family != "Other":
        name = f"{agent.family} {agent.major}" if agent.major else agent.family
    if parsed.os is not None and parsed.os.family != "Other":
        name += f" on {parsed.os.family}"
    return name
