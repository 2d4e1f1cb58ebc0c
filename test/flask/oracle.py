"""Frasco's test oracle: real Flask and itsdangerous behind a line-delimited JSON protocol.

Each line on stdin is a JSON list of operations; the answer is one line with a JSON list of results
(same order). The process stays up so a test file pays the Flask import once. Run with the Debian
interpreter (apt-get install python3-flask): /usr/bin/python3 test/flask/oracle.py

Python values travel as typed specs, so types survive the trip in both directions:
  ["none"] ["bool", b] ["int", "123"] ["float", "1.5" | "nan" | "inf" | "-inf"] ["str", s]
  ["bytes", hex] ["list", [spec...]] ["tuple", [spec...]] ["dict", [[key, spec]...]]
  ["markup", html] ["uuid", hex32] ["datetime", isoformat]

Operations (every one takes "now", the Unix time in whole seconds that itsdangerous sees):
  {"op": "flask_save", "secret_key", "session": dict spec, "permanent"?: bool, "flash"?: [[category, message]...], "salt"?: str,
   "fallbacks"?: [keys oldest -> newest]}
      -> {"cookie": str | null}   via app.session_interface.save_session in a request context
  {"op": "flask_dumps", "secret_key", "session": spec}
      -> {"cookie": str}          via the session interface's signing serializer (any value, even {})
  {"op": "flask_open", "secret_key", "cookie", "lifetime"?: seconds, "salt"?: str, "fallbacks"?: [keys],
   "flash"?: [[category, message]...]}
      -> {"session": spec | null, "permanent": bool, "open_error": name | null, "loads_error": name | null}
         and, with "flash": {"flash_error": name | null, "flashes": spec of session["_flashes"] | null}
         after calling flash(message, category) for each pair in the request that opened the cookie
  {"op": "its", "kind": "URLSafeTimedSerializer" | "URLSafeSerializer" | "Signer" | "TimestampSigner",
   "secret_key": key or [keys oldest -> newest], "salt"?, "digest"?, "key_derivation"?, "sep"?,
   "action": "dumps" | "loads", "value"?: spec (serializers) or str (signers), "token"?, "max_age"?}
      -> {"token": str} | {"value": spec or str} | {"error": name}
A key is a str, or {"hex": "..."} for bytes. "fallbacks" installs rotating.py's session interface,
which gives Flask 2.2 the SECRET_KEY_FALLBACKS of Flask 3.1.
"""
import hashlib
import json
import sys
from datetime import timedelta

from flask import Flask, flash
from flask import session as flask_session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import Signer, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer
from rotating import RotatingSessionInterface
from specs import build, describe

NOW = [0]
# itsdangerous reads the clock only here (int(time.time())); pin it for reproducible tokens.
TimestampSigner.get_timestamp = lambda self: NOW[0]


def key(k):
    if isinstance(k, dict):
        return bytes.fromhex(k["hex"])
    if isinstance(k, list):
        return [key(x) for x in k]
    return k


def make_app(secret_key, lifetime=None, salt=None, fallbacks=None):
    app = Flask("oracle")
    app.secret_key = key(secret_key)
    if lifetime is not None:
        app.permanent_session_lifetime = timedelta(seconds=lifetime)
    # session_interface is a class attribute shared by every app: give this one its own.
    app.session_interface = SecureCookieSessionInterface()
    if fallbacks is not None:
        # Flask 2.2 has no SECRET_KEY_FALLBACKS: the session interface docs/flask.md shows adds it.
        app.config["SECRET_KEY_FALLBACKS"] = [key(k) for k in fallbacks]
        app.session_interface = RotatingSessionInterface()
    if salt is not None:
        app.session_interface.salt = salt
    return app


def flask_save(op):
    app = make_app(op["secret_key"], salt=op.get("salt"), fallbacks=op.get("fallbacks"))
    with app.test_request_context("/"):
        # The request context opened the session; flash() writes to that one.
        session = flask_session._get_current_object()
        session.update(build(op["session"]))
        for category, message in op.get("flash", []):
            flash(message, category)
        if op.get("permanent"):
            session.permanent = True
        response = app.response_class()
        app.session_interface.save_session(app, session, response)
        for header in response.headers.getlist("Set-Cookie"):
            name, _, rest = header.partition("=")
            if name == app.config["SESSION_COOKIE_NAME"]:
                return {"cookie": rest.split(";", 1)[0]}
    return {"cookie": None}


def flask_dumps(op):
    app = make_app(op["secret_key"])
    with app.test_request_context("/"):
        return {"cookie": app.session_interface.get_signing_serializer(app).dumps(build(op["session"]))}


def flask_open(op):
    app = make_app(op["secret_key"], op.get("lifetime"), op.get("salt"), op.get("fallbacks"))
    cookie = op["cookie"]
    result = {"session": None, "permanent": False, "open_error": None, "loads_error": None}
    try:
        # Pushing the request context opens the session, exactly as for a real request.
        with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
            session = flask_session._get_current_object()
            result["session"] = describe(dict(session))
            result["permanent"] = session.permanent
            if "flash" in op:
                result["flash_error"] = None
                try:
                    for category, message in op["flash"]:
                        flash(message, category)
                except Exception as error:  # in a view, a 500
                    result["flash_error"] = type(error).__name__
                result["flashes"] = describe(session["_flashes"]) if "_flashes" in session else None
    except Exception as error:  # Flask does not catch these: the request would be a 500
        result["open_error"] = type(error).__name__
    with app.app_context():
        serializer = app.session_interface.get_signing_serializer(app)
        try:
            serializer.loads(cookie, max_age=int(app.permanent_session_lifetime.total_seconds()))
        except Exception as error:
            result["loads_error"] = type(error).__name__
    return result


KINDS = {
    "URLSafeTimedSerializer": URLSafeTimedSerializer,
    "URLSafeSerializer": URLSafeSerializer,
    "Signer": Signer,
    "TimestampSigner": TimestampSigner,
}


def its(op):
    kind = op["kind"]
    signer_kwargs = {}
    if "digest" in op:
        signer_kwargs["digest_method"] = getattr(hashlib, op["digest"])
    if "key_derivation" in op:
        signer_kwargs["key_derivation"] = op["key_derivation"]
    if "sep" in op:
        signer_kwargs["sep"] = op["sep"]
    secret = key(op["secret_key"])
    serializer = kind.startswith("URLSafe")
    if serializer:
        args = {"signer_kwargs": signer_kwargs}
        if "salt" in op:
            args["salt"] = op["salt"]
        obj = KINDS[kind](secret, **args)
    else:
        if "salt" in op:
            signer_kwargs["salt"] = op["salt"]
        obj = KINDS[kind](secret, **signer_kwargs)
    timed = "Timed" in kind or kind == "TimestampSigner"
    if op["action"] == "dumps":
        if serializer:
            return {"token": obj.dumps(build(op["value"]))}
        return {"token": obj.sign(op["value"].encode("utf-8")).decode("utf-8")}
    try:
        if serializer:
            kwargs = {"max_age": op.get("max_age")} if timed else {}
            return {"value": describe(obj.loads(op["token"], **kwargs))}
        if timed:
            return {"value": obj.unsign(op["token"], max_age=op.get("max_age")).decode("utf-8")}
        return {"value": obj.unsign(op["token"]).decode("utf-8")}
    except Exception as error:
        return {"error": type(error).__name__}


OPS = {"flask_save": flask_save, "flask_dumps": flask_dumps, "flask_open": flask_open, "its": its}


def run(op):
    NOW[0] = int(op.get("now", 0))
    try:
        return OPS[op["op"]](op)
    except Exception as error:  # report, never die: the test shows what went wrong
        return {"oracle_error": f"{type(error).__name__}: {error}"}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        ops = json.loads(line)
        sys.stdout.write(json.dumps([run(op) for op in ops]) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
