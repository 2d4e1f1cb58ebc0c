"""Regenerates test/vectors/flask.json: golden tokens made by real Flask and itsdangerous.

    /usr/bin/python3 test/flask/vectors.py > test/vectors/flask.json

Fixed secrets and clock, so the output only changes if Flask or itsdangerous change their format.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flask  # noqa: E402
import itsdangerous  # noqa: E402
from oracle import run  # noqa: E402

SECRET = "frasco-golden-secret"
NOW = 1700000000


def S(v):
    return ["str", v]


def I(v):
    return ["int", str(v)]


def D(*pairs):
    return ["dict", [list(p) for p in pairs]]


FLASK = [
    ("username", D(("username", S("ada")))),
    ("empty", D()),
    ("permanent", D(("_permanent", ["bool", True]), ("user_id", I(42)))),
    ("flashes", D(("_flashes", ["list", [["tuple", [S("message"), S("Saved.")]], ["tuple", [S("error"), S("Nope")]]]]))),
    ("scalars", D(("t", ["bool", True]), ("f", ["bool", False]), ("n", ["none"]), ("i", I(-7)), ("x", ["float", "0.1"]),
                  ("big", I(12345678901234567890)), ("neg", I(-9007199254740993)), ("tiny", ["float", "1.5e-05"]),
                  ("huge", ["float", "1e+300"]), ("nan", ["float", "nan"]), ("inf", ["float", "inf"]), ("ninf", ["float", "-inf"]))),
    ("unicode", D(("text", S("h\u00e9llo w\u00f6rld \u2603 \U0001F600 \u2028\u2029 \x00\x1f\x7f \"quoted\" back\\slash /slash \t\n\r\b\f")),
                  ("\u00e9t\u00e9", S("key")), ("\U0001F600", S("astral key")), ("\uffff", S("bmp max key")))),
    ("tags", D(("tuple", ["tuple", [I(1), S("two"), ["tuple", []]]]), ("bytes", ["bytes", "00ff10fe80"]), ("bytes1", ["bytes", "61"]),
               ("empty_bytes", ["bytes", ""]), ("markup", ["markup", "<b>bold</b> &amp;"]),
               ("uuid", ["uuid", "1b4e28ba2fa111d2883f0016d3cca427"]), ("when", ["datetime", "2024-02-29T12:34:56+00:00"]))),
    ("di", D(("wrapped", D((" t", S("not a tuple")))), ("deeper", D((" di", D((" b", S("also not bytes")))))),
             ("two_keys", D((" t", I(1)), ("x", I(2)))), ("lookalike", D((" x", I(3)))))),
    ("nested", D(("a", ["list", [D(("b", ["list", [I(1), ["tuple", [D(("c", ["bytes", "abcd"]))]]]])), ["none"]]]),
                 ("z", D(("y", D(("x", S("deep")))))))),
    ("large", D(("_flashes", ["list", [["tuple", [S("message"), S(f"Item {i} was added to your cart.")]] for i in range(40)]]),
                ("cart", ["list", [D(("sku", S(f"A{1000 + i}")), ("qty", I(i % 3 + 1))) for i in range(40)]]))),
]

ITS = [
    ("Signer default", {"kind": "Signer", "value": "hello"}),
    ("Signer hmac sha256", {"kind": "Signer", "salt": "other", "digest": "sha256", "key_derivation": "hmac", "value": "h\u00e9llo.dots.inside"}),
    ("Signer concat sha512 sep", {"kind": "Signer", "digest": "sha512", "key_derivation": "concat", "sep": ":", "value": "a:b"}),
    ("Signer none bytes key", {"kind": "Signer", "key_derivation": "none", "secret_key": {"hex": "00ff7f80"}, "value": "raw key"}),
    ("TimestampSigner default", {"kind": "TimestampSigner", "value": "user-42"}),
    ("TimestampSigner sha256 django-concat", {"kind": "TimestampSigner", "salt": "activate", "digest": "sha256", "value": "x"}),
    ("URLSafeSerializer", {"kind": "URLSafeSerializer", "value": D(("id", I(5)), ("name", S("\u00e9\U0001F600")), ("list", ["list", [I(1), ["float", "2.5"], ["none"]]]))}),
    ("URLSafeSerializer compressed", {"kind": "URLSafeSerializer", "salt": "zip", "value": ["list", [S("repeat me please")] * 30]}),
    ("URLSafeTimedSerializer", {"kind": "URLSafeTimedSerializer", "salt": "reset", "value": D(("user", I(7)), ("email", S("ada@example.com")))}),
    ("URLSafeTimedSerializer hmac sha256", {"kind": "URLSafeTimedSerializer", "salt": "cookie-session", "digest": "sha256", "key_derivation": "hmac", "value": S("text")}),
]


def main():
    out = {
        "generator": f"test/flask/vectors.py with Flask {flask.__version__} and itsdangerous {itsdangerous.__version__}",
        "secret_key": SECRET,
        "now": NOW,
        "flask": [],
        "itsdangerous": [],
    }
    for name, session in FLASK:
        [result] = [run({"op": "flask_dumps", "secret_key": SECRET, "session": session, "now": NOW})]
        out["flask"].append({"name": name, "session": session, "cookie": result["cookie"]})
    for name, spec in ITS:
        op = {"op": "its", "action": "dumps", "secret_key": SECRET, "now": NOW, **spec}
        result = run(op)
        if "token" not in result:
            raise SystemExit(f"{name}: {result}")
        vector = {"name": name, **{k: v for k, v in op.items() if k not in ("op", "action", "now")}, "token": result["token"]}
        if vector["secret_key"] == SECRET:
            del vector["secret_key"]
        out["itsdangerous"].append(vector)
    # One vector per line: readable diffs when a vector changes.
    lines = ["{"]
    for key in ("generator", "secret_key", "now"):
        lines.append(f" {json.dumps(key)}: {json.dumps(out[key])},")
    for key in ("flask", "itsdangerous"):
        lines.append(f" {json.dumps(key)}: [")
        lines.append(",\n".join("  " + json.dumps(v, ensure_ascii=True) for v in out[key]))
        lines.append(" ]," if key == "flask" else " ]")
    lines.append("}")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
