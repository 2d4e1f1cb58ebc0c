"""The Flask quickstart's session example (login / logout), for live end-to-end tests.

    /usr/bin/python3 test/flask/app.py --port 0 --secret-key 'dev'

Listens on 127.0.0.1 and prints one line, "LISTENING <port>", once it accepts connections (port 0
picks a free port), then serves until it is terminated.
"""
import argparse
import sys

from flask import Flask, redirect, request, session, url_for
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--secret-key", required=True)
    args = parser.parse_args()
    app.secret_key = args.secret_key
    server = make_server("127.0.0.1", args.port, app)
    print(f"LISTENING {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
