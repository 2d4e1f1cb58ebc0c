"""The Flask quickstart's session example (login / logout), for live end-to-end tests.

    /usr/bin/python3 test/flask/app.py --port 0 --secret-key 'dev' [--test-routes]

Listens on 127.0.0.1 and prints one line, "LISTENING <port>", once it accepts connections (port 0
picks a free port), then serves until it is terminated. The secret key comes from --secret-key,
or from the environment variable SECRET_KEY when the option is omitted.

--test-routes adds a few routes for the tests, beside the tutorial's three (never in a real app):
  GET  /_test/session    the session as JSON: {"session": spec, "permanent": bool} (specs.py)
  POST /_test/flash      flash(form["message"], form.get("category", "message"))
  GET  /_test/flashes    get_flashed_messages(with_categories=True) as a spec
  POST /_test/permanent  session.permanent = True
"""
import argparse
import json
import os
import sys

from flask import Flask, flash, get_flashed_messages, redirect, request, session, url_for
from markupsafe import escape
from werkzeug.serving import make_server

app = Flask(__name__)


@app.route("/")
def index():
    if "username" in session:
        return f"Logged in as {escape(session['username'])}"
    return "You are not logged in"


@app.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        session["username"] = request.form["username"]
        return redirect(url_for("index"))
    return """
        <form method="post">
            <p><input type=text name=username>
            <p><input type=submit value=Login>
        </form>
    """


@app.route("/logout")
def logout():
    session.pop("username", None)
    return redirect(url_for("index"))


def add_test_routes():
    # Imported here so the tutorial app itself needs nothing beyond Flask.
    from specs import describe

    def as_json(value):
        return app.response_class(json.dumps(value), mimetype="application/json")

    def dump_session():
        return as_json({"session": describe(dict(session)), "permanent": session.permanent})

    def flash_message():
        flash(request.form["message"], request.form.get("category", "message"))
        return "flashed"

    def flashed_messages():
        return as_json(describe(get_flashed_messages(with_categories=True)))

    def make_permanent():
        session.permanent = True
        return "permanent"

    app.add_url_rule("/_test/session", view_func=dump_session)
    app.add_url_rule("/_test/flash", view_func=flash_message, methods=["POST"])
    app.add_url_rule("/_test/flashes", view_func=flashed_messages)
    app.add_url_rule("/_test/permanent", view_func=make_permanent, methods=["POST"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--secret-key", default=os.environ.get("SECRET_KEY"))
    parser.add_argument("--test-routes", action="store_true")
    args = parser.parse_args()
    if not args.secret_key:
        parser.error("give --secret-key or set SECRET_KEY")
    app.secret_key = args.secret_key
    if args.test_routes:
        add_test_routes()
    server = make_server("127.0.0.1", args.port, app)
    print(f"LISTENING {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
