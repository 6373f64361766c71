"""Flask sessions kept in the database: the cookie holds a random token and nothing else.

A signed cookie cannot be taken back: after signing out, a copied cookie still worked. Here
every request looks its token up in ``auth_session`` (``audit/data/sessions.py``), so ending
a session (sign-out, password change, deactivation, "sign out everywhere", idle timeout)
ends it for a replayed cookie too.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
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


class DatabaseSessionInterface(SessionInterface):
    """Load and store sessions in the app's SQLite file, one row per session."""

    serializer = TaggedJSONSerializer()

    def _limits(self, app: Flask) -> dict[str, Any]:
        return {"idle": app.config["SESSION_IDLE"], "lifetime": app.permanent_session_lifetime}

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        """Return the stored session the cookie names, or a new empty one."""
        from audit.views import get_db

        token = request.cookies.get(self.get_cookie_name(app))
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
        db = get_db()
        if not session:
            if session.token is not None:
                sessions.end(db, session.token)
                response.delete_cookie(name, domain=domain, path=path)
            return
        user_id = session.get("user_id")
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
        response.set_cookie(
            name,
            session.token,
            expires=self.get_expiration_time(app, session),
            httponly=self.get_cookie_httponly(app),
            domain=domain,
            path=path,
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
