"""A stub recursive resolver on loopback for the default-verification tests.

It answers A queries for the names it is given with their addresses (AA
clear, RA set, as a recursive resolver would), NXDOMAIN for other names,
NODATA for other types, and records every question it gets so that a test can
see that, when and how often the module resolved. UDP only, one thread,
bounded: each recv waits at most 0.2 s so that stop() ends it promptly.
"""
import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class StubResolver:
    def __init__(self, names, ttl=300):
        self.names = {n.rstrip(".").lower(): addr for n, addr in names.items()}
        self.ttl = ttl
        self.questions = []          # (name, type) in arrival order
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def asked(self, rdtype="A"):
        with self.lock:
            return [n for n, t in self.questions if t == rdtype]

    def _answer(self, query):
        resp = dns.message.make_response(query)
        resp.flags |= dns.flags.RA
        q = query.question[0]
        name = q.name.to_text().rstrip(".").lower()
        with self.lock:
            self.questions.append((name, dns.rdatatype.to_text(q.rdtype)))
            addr = self.names.get(name)
        if addr is None:
            resp.set_rcode(dns.rcode.NXDOMAIN)
        elif q.rdtype == dns.rdatatype.A:
            resp.answer.append(dns.rrset.from_text(q.name, self.ttl, "IN", "A", addr))
        return resp

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                resp = self._answer(dns.message.from_wire(data))
            except Exception:  # noqa: BLE001 (a stub: ignore what it cannot parse)
                continue
            self.sock.sendto(resp.to_wire(), peer)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()
