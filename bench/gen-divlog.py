#!/usr/bin/python3
"""Writes a realistic divergence log (docs/divergence-log.md) of about
SIZE bytes to standard output, for measuring shadowdiff-report:

    python3 bench/gen-divlog.py 1G > /tmp/divlog-1g.log

Routes, URIs, paths and values vary; a few fields differ on most
mismatches (an id, a timestamp, a header), others rarely; some records
are shadow errors and some sampled matches. Seeded: the same size gives
the same file.
"""
import json
import random
import sys
import uuid

ROUTES = ["users", "orders", "search", "items", "carts", "payments",
          "default", "profile", "inventory", "reviews"]
ERRORS = ["timeout", "refused", "reset", "bad_response", "too_large"]
HEADERS = ["etag", "x-request-id", "server", "content-length",
           "cache-control"]


def size_arg(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if s[-1].upper() in mult:
        return int(float(s[:-1]) * mult[s[-1].upper()])
    return int(s)


def body_diff(rnd, route):
    choice = rnd.random()
    if choice < 0.35:
        return {"kind": "body", "path": "/request_id", "op": "changed",
                "primary": str(uuid.UUID(int=rnd.getrandbits(128))),
                "shadow": str(uuid.UUID(int=rnd.getrandbits(128)))}
    if choice < 0.55:
        i = rnd.randrange(40)
        return {"kind": "body", "path": "/items/%d/price" % i,
                "op": "changed", "primary": round(rnd.random() * 100, 2),
                "shadow": round(rnd.random() * 100, 2)}
    if choice < 0.70:
        return {"kind": "body", "path": "/meta/generated_at",
                "op": "changed",
                "primary": "2026-11-%02dT10:%02d:%02d.%06dZ" % (
                    rnd.randrange(1, 29), rnd.randrange(60),
                    rnd.randrange(60), rnd.randrange(1000000)),
                "shadow": "2026-11-%02dT10:%02d:%02d.%06dZ" % (
                    rnd.randrange(1, 29), rnd.randrange(60),
                    rnd.randrange(60), rnd.randrange(1000000))}
    if choice < 0.80:
        i = rnd.randrange(10)
        return {"kind": "body", "path": "/%s/%d/tags" % (route, i),
                "op": "type", "primary": None, "shadow": []}
    if choice < 0.88:
        return {"kind": "body", "path": "/user/address/zip",
                "op": "removed", "primary": "%05d" % rnd.randrange(99999)}
    if choice < 0.95:
        h = rnd.choice(HEADERS)
        return {"kind": "header", "path": h, "op": "changed",
                "primary": "W/\"%x\"" % rnd.getrandbits(48),
                "shadow": "W/\"%x\"" % rnd.getrandbits(48)}
    return {"kind": "status", "path": "", "op": "changed",
            "primary": 200, "shadow": rnd.choice([500, 404, 201])}


def record(rnd, n):
    route = rnd.choice(ROUTES)
    t = "2026-11-%02dT%02d:%02d:%02d.%06dZ" % (
        1 + n // 5000000 % 28, n // 200000 % 24, n // 3000 % 60,
        n // 50 % 60, n * 7919 % 1000000)
    uri = "/api/%s/%d?page=%d" % (route, rnd.randrange(100000),
                                  rnd.randrange(10))
    kind = rnd.random()
    rec = {"type": "mismatch", "time": t, "id": "%016x" % rnd.getrandbits(64),
           "config": 1, "route": route, "method": rnd.choice(
               ["GET", "GET", "GET", "POST", "PUT"]), "uri": uri,
           "primary": {"status": 200, "ms": round(rnd.random() * 20, 3),
                       "bytes": rnd.randrange(100, 20000)}}
    if kind < 0.08:
        rec["type"] = "shadow_error"
        rec["shadow"] = {"error": rnd.choice(ERRORS),
                         "ms": round(rnd.random() * 5000, 3)}
        rec["diffs"] = []
    elif kind < 0.20:
        rec["type"] = "match"
        rec["shadow"] = {"status": 200, "ms": round(rnd.random() * 20, 3),
                         "bytes": rec["primary"]["bytes"]}
        rec["diffs"] = []
    else:
        rec["shadow"] = {"status": 200, "ms": round(rnd.random() * 20, 3),
                         "bytes": rnd.randrange(100, 20000)}
        rec["diffs"] = [body_diff(rnd, route)
                        for _ in range(1 + int(rnd.expovariate(0.7)))]
    rec["forgiven"] = {"null_equals_empty": 1} if rnd.random() < 0.3 else {}
    rec["notes"] = []
    return json.dumps(rec, separators=(",", ":"))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen-divlog.py SIZE (bytes, or 100M, 1G)")
    target = size_arg(sys.argv[1])
    rnd = random.Random(16)
    out = sys.stdout
    written = n = 0
    buf = []
    while written < target:
        line = record(rnd, n) + "\n"
        buf.append(line)
        written += len(line)
        n += 1
        if len(buf) == 4096:
            out.write("".join(buf))
            buf = []
    out.write("".join(buf))


if __name__ == "__main__":
    main()
