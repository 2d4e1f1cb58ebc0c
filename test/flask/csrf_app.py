"""A Flask app protected by Flask-WTF's CSRFProtect, for live CSRF interop tests.

    /usr/bin/python3 test/flask/csrf_app.py --port 0 --secret-key 'dev'
        [--time-limit SECONDS|none] [--csrf-secret-key KEY ...]

Listens on 127.0.0.1 and prints one line, "LISTENING <port>", once it accepts connections (port 0
picks a free port), then serves until it is terminated. The secret key comes from --secret-key,
or from the environment variable SECRET_KEY when the option is omitted.

--time-limit sets WTF_CSRF_TIME_LIMIT (default: Flask-WTF's own, 3600; "none" for None).
--csrf-secret-key sets WTF_CSRF_SECRET_KEY; given more than once, it is the list itsdangerous
takes, OLDEST FIRST (the newest signs). Without it, Flask-WTF signs with SECRET_KEY.

Routes (never in a real app):
  GET  /token    generate_csrf() as text; gives the session a csrf_token if it has none
  GET  /session  {"csrf_token": <the session's value, or null>} as JSON; leaves the session as is
  POST /submit   behind CSRFProtect (form field csrf_token, or header X-CSRFToken): "accepted", or
                 400 with Flask-WTF's reason ("The CSRF tokens do not match.", ...) as text
"""
import argparse
import json
import os
import sys

from flask import Flask, session
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from werkzeug.serving import make_server

app = Flask(__name__)
csrf = CSRFProtect()


@app.route("/token")
def token():
    return generate_csrf()


@app.route("/session")
def dump_session():
    return app.response_class(json.dumps({"csrf_token": session.get("csrf_token")}), mimetype="application/json")


@app.route("/submit", methods=["POST"])
def submit():
    return "accepted"


@app.errorhandler(CSRFError)
def refused(error):
    # The reason, so that the tests can tell an expired token from a mismatched one.
    return error.description, 400


def time_limit(text):
    return None if text == "none" else int(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--secret-key", default=os.environ.get("SECRET_KEY"))
    parser.add_argument("--time-limit", type=time_limit, default=argparse.SUPPRESS)
    parser.add_argument("--csrf-secret-key", action="append")
    args = parser.parse_args()
    if not args.secret_key:
        parser.error("give --secret-key or set SECRET_KEY")
    app.secret_key = args.secret_key
    if "time_limit" in args:
        app.config["WTF_CSRF_TIME_LIMIT"] = args.time_limit
    if args.csrf_secret_key:
        keys = args.csrf_secret_key
        app.config["WTF_CSRF_SECRET_KEY"] = keys[0] if len(keys) == 1 else keys
    csrf.init_app(app)
    server = make_server("127.0.0.1", args.port, app)
    print(f"LISTENING {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
