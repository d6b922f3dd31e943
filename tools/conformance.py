#!/usr/bin/python3
"""Conformance run: raw HTTP/1.1 requests through the real daemon.

Usage: /usr/bin/python3 tools/conformance.py BUILD/shadowdiff
           [--cases ../shared/conformance/cases.json] [--only ID-PREFIX]
           [--verbose]

Starts the daemon (the binary given) in front of a backend of its own (a
socket server in this script that records the exact bytes it receives
and answers 200), sends each case of cases.json on a new connection and
classifies what happened:

  refused         the client got an error of ours; nothing reached the
                  backend
  refused-body    the client got an error of ours after the head reached
                  the backend; no request reached it whole
  forwarded       the backend received the request whole and answered
  no-answer       nothing reached the backend and the client got no
                  response (closed, or silent until the timeout)
  other           anything else (listed)

Each case is also judged by a strict reading of RFC 9112 (judge() below):
"invalid" when a server must refuse it, with the class of the fault. A
forwarded case is unsafe when it is invalid, or when what the backend
received still carries an ambiguity (a framing header under another
spelling, Content-Length beside Transfer-Encoding, a coding other than
chunked, a head line that is not clean). A valid case that was refused
is a false reject (listed: some are refusals a server may make, such as
501 for a method it does not implement).

It is a tool, not a test: make check does not run it. Standard library
only.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

BACKEND_MARK = b"X-Conformance-Backend: 1"
TCHAR = set(b"!#$%&'*+-.^_`|~0123456789"
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
FRAMING = (b"content-length", b"transfer-encoding")


# ---------------------------------------------------------------- cases

def case_bytes(doc, case):
    """The bytes to send for CASE (smuggler gadgets are rendered)."""
    if "raw" in case:
        return case["raw"].encode("latin-1")
    body = doc["dual_body"].encode("latin-1")
    head = doc["smuggler_template"].split("{body}")[0].encode("latin-1")
    head = head.replace(b"{cl}", str(len(body)).encode())
    return head.replace(b"{gadget}", case["gadget"].encode("latin-1")) + body


# ---------------------------------------------------------------- judge

class Invalid(Exception):
    """A strict reading of RFC 9112 refuses the message; args[0] the class."""


def norm_name(name):
    """NAME lowercased, '_' as '-', runs of '-' folded (CGI's reading)."""
    return re.sub(rb"-+", b"-", name.lower().replace(b"_", b"-"))


def parse_head(data, pos):
    """Strictly parses a head at POS: (start line, fields, end or None).

    A head not ended yet is judged on its lines so far (end None)."""
    end = data.find(b"\r\n\r\n", pos)
    head = data[pos:end] if end >= 0 else data[pos:]
    if re.search(rb"\r(?!\n)|(?<!\r)\n", head.rstrip(b"\r")):
        raise Invalid("bare CR/LF")
    lines = head.split(b"\r\n")
    if end < 0:
        lines = lines[:-1]      # the line being received
        if not lines:
            return None
    fields = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            raise Invalid("obs-fold")
        name, sep, value = line.partition(b":")
        if not sep or not name or any(c not in TCHAR for c in name):
            raise Invalid("bad field name")
        value = value.strip(b" \t")
        if any((c < 0x20 and c != 9) or c == 0x7f for c in value):
            raise Invalid("bad field value")
        fields.append((name, value))
    return lines[0], fields, end + 4 if end >= 0 else None


def check_request_line(line):
    """Raises Invalid unless LINE is method SP target SP HTTP/1.x."""
    parts = line.split(b" ")
    if len(parts) != 3 or not parts[0] or \
            any(c not in TCHAR for c in parts[0]):
        raise Invalid("bad request line")
    method, target, proto = parts
    if not re.fullmatch(rb"HTTP/\d\.\d", proto):
        raise Invalid("non-HTTP protocol")
    if proto not in (b"HTTP/1.0", b"HTTP/1.1"):
        raise Invalid("HTTP version")
    if not re.fullmatch(rb"[\x21-\x7e]+", target):
        raise Invalid("bad target")
    if target.startswith(b"/") or (target == b"*" and method == b"OPTIONS"):
        return method, proto
    m = re.fullmatch(rb"(?i:https?)://([^/?#]*)([/?].*)?", target)
    if method == b"CONNECT" and re.fullmatch(rb"[^/@]+:\d+", target):
        return method, proto
    if not m or not m.group(1) or b"@" in m.group(1):
        raise Invalid("bad target")
    return method, proto


def framing_of(fields, proto):
    """The body framing of a request's FIELDS: ('cl', n), ('chunked',), None."""
    cls = [v for n, v in fields if n.lower() == b"content-length"]
    tes = [v for n, v in fields if n.lower() == b"transfer-encoding"]
    for n, _ in fields:
        if norm_name(n) in FRAMING and n.lower() not in FRAMING:
            raise Invalid("framing name alias")
    hosts = [v for n, v in fields if n.lower() == b"host"]
    if len(hosts) > 1 or (not hosts and proto == b"HTTP/1.1"):
        raise Invalid("Host missing or repeated")
    if tes:
        if cls:
            raise Invalid("CL and TE")
        codings = [c.strip(b" \t").lower()
                   for c in b",".join(tes).split(b",")]
        if proto == b"HTTP/1.0" or codings[-1] != b"chunked" or \
                codings.count(b"chunked") > 1 or \
                any(not c or any(x not in TCHAR for x in c.split(b";")[0])
                    for c in codings):
            raise Invalid("bad TE")
        return ("chunked",)
    if cls:
        values = set(v for c in cls for v in c.split(b","))
        values = set(v.strip(b" \t") for v in values)
        if len(values) != 1 or not re.fullmatch(rb"\d{1,18}",
                                                next(iter(values))):
            raise Invalid("bad CL")
        return ("cl", int(next(iter(values))))
    return None


def chunked_end(data, pos):
    """Where a strict chunked body at POS ends; None if incomplete."""
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        line = data[pos:eol]
        m = re.fullmatch(rb"([0-9a-fA-F]{1,16})((?:[ \t]*;[ \t]*[!#$%&'*+.^_`|~"
                         rb"0-9A-Za-z-]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+"
                         rb"|\"[^\"\\\r\n]*\"))?)*)", line)
        if not m or b"\n" in line or b"\r" in line:
            raise Invalid("bad chunk size")
        size = int(m.group(1), 16)
        pos = eol + 2
        if size == 0:
            while True:     # trailers, then the empty line
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    return None
                if eol == pos:
                    return eol + 2
                if b":" not in data[pos:eol]:
                    raise Invalid("bad chunk size")
                pos = eol + 2
        if len(data) < pos + size + 2:
            return None
        if data[pos + size:pos + size + 2] != b"\r\n":
            raise Invalid("bad chunk size")
        pos += size + 2


def judge(data):
    """The strict RFC 9112 reading of DATA: (verdict, N).

    VERDICT is "valid", "incomplete" (nothing to refuse yet) or the class
    of the fault; N how many whole valid requests come before it."""
    pos, n = 0, 0
    try:
        while pos < len(data) and n < 8:
            while data.startswith(b"\r\n", pos):   # RFC 9112 2.2
                pos += 2
            if pos >= len(data):
                break
            head = parse_head(data, pos)
            if head is None:
                return "incomplete", n
            line, fields, pos = head
            _, proto = check_request_line(line)
            framing = framing_of(fields, proto)
            if pos is None:
                return "incomplete", n
            if framing and framing[0] == "cl":
                pos += framing[1]
                if pos > len(data):
                    return "incomplete", n
            elif framing:
                pos = chunked_end(data, pos)
                if pos is None:
                    return "incomplete", n
            n += 1
    except Invalid as e:
        return e.args[0], n
    return "valid", n


def residue(received):
    """What is still ambiguous in the bytes the backend received, or None."""
    head = received.split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    if re.search(rb"\r(?!\n)|(?<!\r)\n", head):
        return "bare CR/LF"
    if not re.fullmatch(rb"[!-~]+ [!-~]+ HTTP/1\.1", lines[0]):
        return "request line"
    names = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if line[:1] in (b" ", b"\t") or any(c not in TCHAR for c in name):
            return "head line"
        names.append(name.lower())
        if norm_name(name) in FRAMING and name.lower() not in FRAMING:
            return "framing name alias"
        if name.lower() == b"transfer-encoding" and \
                value.strip().lower() != b"chunked":
            return "bad TE"
    if b"content-length" in names and b"transfer-encoding" in names:
        return "CL and TE"
    return None


# -------------------------------------------------------------- backend

class Backend:
    """Records the bytes of each connection; answers 200 to each request."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.conns = []         # [bytearray, requests whole]
        self.open = 0
        threading.Thread(target=self.accept, daemon=True).start()

    def take(self):
        """The connections seen since the last call."""
        with self.lock:
            conns, self.conns = self.conns, []
        return conns

    def accept(self):
        while True:
            c, _ = self.sock.accept()
            with self.lock:
                rec = [bytearray(), 0]
                self.conns.append(rec)
                self.open += 1
            threading.Thread(target=self.serve, args=(c, rec),
                             daemon=True).start()

    def serve(self, c, rec):
        c.settimeout(5)
        try:
            while request_end(bytes(rec[0]), 0) is None:
                if not self.read(c, rec):
                    return
            # One request per connection: what arrives is then known to
            # belong to the case being sent.
            rec[1] += 1
            c.sendall(b"HTTP/1.1 200 OK\r\n" + BACKEND_MARK +
                      b"\r\nContent-Length: 2\r\nConnection: close\r\n"
                      b"\r\nok")
            c.settimeout(0.05)
            while self.read(c, rec):    # what was sent beyond it, if any
                pass
        except OSError:
            pass
        finally:
            c.close()
            with self.lock:
                self.open -= 1

    def read(self, c, rec):
        """Records what C sends; False at its end."""
        data = c.recv(65536)
        with self.lock:
            rec[0] += data
        return bool(data)


def request_end(data, pos):
    """Where the request at POS ends, read leniently; None if not yet."""
    end = data.find(b"\r\n\r\n", pos)
    if end < 0:
        return None
    head = data[pos:end].lower()
    body = end + 4
    m = re.search(rb"\r\ncontent-length:[ \t]*(\d+)", head)
    if b"\r\ntransfer-encoding:" in head:
        try:
            return chunked_end(data, body)
        except Invalid:
            return None
    if m:
        n = int(m.group(1))
        return body + n if len(data) >= body + n else None
    return body


# --------------------------------------------------------------- client

def responses(data, head):
    """The (status, ours) of each whole response in DATA, and the rest.

    HEAD: the responses answer HEAD (no body whatever Content-Length)."""
    out = []
    while True:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return out, data
        head = data[:end]
        m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
        if not m:
            return out, data
        cl = re.search(rb"\r\ncontent-length: *(\d+)", head.lower())
        n = int(cl.group(1)) if cl and not head else 0
        if len(data) < end + 4 + n:
            return out, data
        out.append((int(m.group(1)), BACKEND_MARK not in head))
        data = data[end + 4 + n:]


def send_case(port, raw, timeout):
    """Sends RAW on a new connection; the responses the client got."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(raw)
    got, data = [], b""
    deadline = time.monotonic() + timeout
    s.settimeout(0.05)
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            if got:
                break           # answered, and quiet since
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        new, data = responses(data, raw.startswith(b"HEAD "))
        got += new
    s.close()
    return got


# ----------------------------------------------------------------- main

CONF = """[server]
workers = 1
drain_timeout = 1s
[listen]
address = 127.0.0.1:0
[primary]
url = http://127.0.0.1:{port}
read_timeout = 2s
[limits]
client_header_timeout = 300ms
client_body_timeout = 300ms
[admin]
listen = 127.0.0.1:0
"""


def start_daemon(binary, backend_port, tmp):
    """Starts the daemon; (process, port)."""
    conf = os.path.join(tmp, "conformance.conf")
    with open(conf, "w") as f:
        f.write(CONF.format(port=backend_port))
    err = open(os.path.join(tmp, "daemon.err"), "w+")
    p = subprocess.Popen([binary, "-c", conf], stdout=err, stderr=err)
    for _ in range(500):
        err.seek(0)
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", err.read())
        if m:
            return p, int(m.group(1))
        if p.poll() is not None:
            break
        time.sleep(0.01)
    p.kill()
    sys.exit("conformance: the daemon did not start")


def classify(got, conns):
    """The class of a case from the client's responses and the backend."""
    reached = any(rec[0] for rec in conns)
    whole = sum(rec[1] for rec in conns)
    if not got:
        return "no-answer" if not reached else "other"
    status, ours = got[0]
    if whole > 0 and not ours:
        return "forwarded"
    if ours and status >= 400 and not reached:
        return "refused"
    if ours and status >= 400 and whole == 0:
        return "refused-body"
    return "other"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--cases", default=os.path.join(
        here, "..", "..", "shared", "conformance", "cases.json"))
    ap.add_argument("--only", default="", help="case id prefix")
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    with open(args.cases) as f:
        doc = json.load(f)
    cases = [c for c in doc["cases"] if c["id"].startswith(args.only)]
    backend = Backend()
    with tempfile.TemporaryDirectory() as tmp:
        daemon, port = start_daemon(args.binary, backend.port, tmp)
        try:
            results = run(cases, doc, backend, port, args)
        finally:
            daemon.terminate()
            status = daemon.wait(10)
        report(results, len(cases))
        # A sanitizer build reports there: say so rather than lose it.
        with open(os.path.join(tmp, "daemon.err")) as f:
            err = f.read()
        if status != 0 or "Sanitizer" in err:
            print("daemon exit status %d; its stderr ends:\n%s" %
                  (status, err[-4000:]))
            sys.exit(1)


def run(cases, doc, backend, port, args):
    """Sends every case; a list of (case, class, judgement, detail)."""
    results = []
    for case in cases:
        raw = case_bytes(doc, case)
        got = send_case(port, raw, args.timeout)
        # The daemon may still be closing its upstream side: wait a little.
        for _ in range(100):
            if backend.open == 0:
                break
            time.sleep(0.01)
        conns = backend.take()
        cls = classify(got, conns)
        verdict, nvalid = judge(raw)
        detail = {"client": [s for s, _ in got],
                  "backend": [bytes(rec[0]) for rec in conns]}
        if cls == "forwarded":
            left = [residue(b) for b in detail["backend"] if b]
            left = [r for r in left if r]
            whole = sum(rec[1] for rec in conns)
            if verdict not in ("valid", "incomplete") and whole > nvalid:
                detail["unsafe"] = verdict
            elif left:
                detail["unsafe"] = "backend got: " + left[0]
        results.append((case, cls, verdict, detail))
        if args.verbose:
            print(case["id"], cls, verdict, detail["client"], flush=True)
    return results


def report(results, total):
    """Prints the summary and the cases worth a look."""
    counts = {}
    for _, cls, _, _ in results:
        counts[cls] = counts.get(cls, 0) + 1
    unsafe = [r for r in results if "unsafe" in r[3]]
    false_rejects = [r for r in results if r[2] == "valid" and
                     r[1] in ("refused", "refused-body")]
    invalid = sum(1 for r in results
                  if r[2] not in ("valid", "incomplete"))
    print("cases: %d (strictly invalid: %d)" % (total, invalid))
    for cls in ("refused", "refused-body", "forwarded", "no-answer",
                "other"):
        print("  %-13s %d" % (cls, counts.get(cls, 0)))
    print("unsafe-forwarded: %d" % len(unsafe))
    print("valid but refused: %d" % len(false_rejects))
    by = {}
    for case, _, verdict, d in unsafe:
        by.setdefault(d["unsafe"], []).append(case["id"])
    for why, ids in sorted(by.items()):
        print("  unsafe (%s): %d" % (why, len(ids)))
    for case, _, _, d in unsafe:
        print("UNSAFE %s [%s] client %s backend %r" % (
            case["id"], d["unsafe"], d["client"],
            d["backend"][0][:120] if d["backend"] else b""))
    for case, _, _, d in false_rejects:
        print("REFUSED-VALID %s client %s" % (case["id"], d["client"]))
    for case, cls, _, d in results:
        if cls == "other":
            print("OTHER %s client %s backend %d conn(s)" % (
                case["id"], d["client"], len(d["backend"])))


if __name__ == "__main__":
    main()
