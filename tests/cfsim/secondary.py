"""Secondary zones: Cloudflare as a secondary of a primary (here: knotd).

A zone of type "secondary" gets its records by zone transfer, not through
the API. This module is that transfer side:

- NOTIFY listener: one UDP and one TCP socket on the same port of the
  simulator's loopback address (knotd 3.2 sends NOTIFY over TCP). A DNS
  NOTIFY for a secondary zone is answered (AA, same id) and queues a pull.
- Transfers: one worker thread pulls queued zones from their primary with
  dnspython (IXFR from the serial it holds, AXFR when it holds none or the
  IXFR fails), then replaces the zone's records with what it received.
- transferred_records(): the records the API lists for a secondary zone,
  built from the transferred zone: the apex DNSKEY set and every NS set,
  read-only (writes through the API are refused in api.py).

Everything is bounded: the socket and the transfer have timeouts, the queue
holds each zone at most once, and stop() ends both threads.
"""

import base64
import hashlib
import queue
import socket
import struct
import threading

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.xfr
import dns.zone

from . import records as rr
from .state import now_rfc3339

TRANSFER_TIMEOUT = 5.0     # seconds per message
TRANSFER_LIFETIME = 15.0   # seconds per transfer
TCP_READ_TIMEOUT = 2.0     # seconds for a NOTIFY client to send its message
LISTED_TYPES = ("DNSKEY", "NS")


def stable_id(rtype, name, content):
    """The same record keeps the same id across transfers (32 hex, like Cloudflare)."""
    return hashlib.sha256(f"{rtype}|{name}|{content}".encode()).hexdigest()[:32]


def transferred_records(zone_name, dzone, when):
    """API records (stored shape) for the DNSKEY and NS sets of a transferred zone."""
    out = {}
    origin = dns.name.from_text(zone_name)
    for name, node in dzone.nodes.items():
        owner = name.derelativize(origin).to_text(omit_final_dot=True).lower()
        for rdataset in node.rdatasets:
            rtype = dns.rdatatype.to_text(rdataset.rdtype)
            if rtype not in LISTED_TYPES or (rtype == "DNSKEY" and owner != zone_name):
                continue
            for rdata in rdataset:
                fields = {"type": rtype, "name": owner, "ttl": rdataset.ttl, "proxied": False,
                          "comment": None, "tags": []}
                if rtype == "DNSKEY":
                    data = {"flags": rdata.flags, "protocol": rdata.protocol,
                            "algorithm": int(rdata.algorithm),
                            "public_key": base64.b64encode(rdata.key).decode("ascii")}
                    fields["data"] = data
                    fields["content"] = rr.render_content("DNSKEY", data)
                else:
                    fields["content"] = rdata.target.derelativize(origin).to_text(
                        omit_final_dot=True).lower()
                rid = stable_id(rtype, owner, fields["content"])
                out[rid] = {"id": rid, **fields, "proxiable": False, "settings": {},
                            "meta": {"read_only": True, "source": "primary"},
                            "created_on": when, "modified_on": when}
    return out


def _read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


class Transfers:
    """The secondary side of the simulator: NOTIFY in, AXFR/IXFR out."""

    def __init__(self, sim):
        self.sim = sim
        self.queue = queue.Queue()
        self.pending = set()
        self.lock = threading.Lock()
        self.sock = None
        self.tcp = None
        self.threads = []
        self.stop_event = threading.Event()

    @property
    def notify_port(self):
        return self.sock.getsockname()[1] if self.sock else None

    def _bind(self, host):
        """A UDP and a TCP socket on one free port (bounded retries)."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        for _ in range(20):
            udp = socket.socket(family, socket.SOCK_DGRAM)
            udp.bind((host, 0))
            tcp = socket.socket(family, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((host, udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(8)
            udp.settimeout(0.1)
            tcp.settimeout(0.1)
            return udp, tcp
        raise OSError("no free port for both UDP and TCP NOTIFY")

    def start(self, host):
        self.sock, self.tcp = self._bind(host)
        self.stop_event.clear()
        loops = ((self._listen, "cfsim-notify"), (self._listen_tcp, "cfsim-notify-tcp"),
                 (self._work, "cfsim-xfr"))
        for target, name in loops:
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self):
        self.stop_event.set()
        self.queue.put(None)
        for t in self.threads:
            t.join(timeout=TRANSFER_LIFETIME + 1)
        self.threads = []
        for s in (self.sock, self.tcp):
            if s:
                s.close()
        self.sock = self.tcp = None

    def request(self, zone_id):
        """Queue a pull of the zone (once, however often it is asked)."""
        with self.lock:
            if zone_id in self.pending:
                return
            self.pending.add(zone_id)
        self.queue.put(zone_id)

    # --- NOTIFY -------------------------------------------------------------------
    def _listen(self):
        while not self.stop_event.is_set():
            try:
                wire, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            reply = self._notify(wire)
            if reply is not None:
                try:
                    self.sock.sendto(reply, peer)
                except OSError:
                    pass

    def _listen_tcp(self):
        """One connection at a time: a 2-byte length, the message, the answer."""
        while not self.stop_event.is_set():
            try:
                conn, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(TCP_READ_TIMEOUT)
                try:
                    size = struct.unpack("!H", _read_exact(conn, 2))[0]
                    reply = self._notify(_read_exact(conn, size))
                    if reply is not None:
                        conn.sendall(struct.pack("!H", len(reply)) + reply)
                except (OSError, EOFError, struct.error):
                    continue

    def _notify(self, wire):
        """The answer to a NOTIFY (None: drop), and a queued pull."""
        try:
            msg = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None                              # not DNS: drop, as a server would
        if msg.opcode() != dns.opcode.NOTIFY or len(msg.question) != 1 or \
                msg.flags & dns.flags.QR:
            return None
        qname = msg.question[0].name.to_text(omit_final_dot=True).lower()
        store = self.sim.store
        with store.lock:
            zone = store.zone_by_name(qname)
            ok = zone is not None and zone.type == "secondary" and zone.primary is not None
            if ok:
                zone.notifies += 1
        reply = dns.message.make_response(msg)
        reply.flags |= dns.flags.AA
        if not ok:
            reply.set_rcode(dns.rcode.NOTAUTH)
        if ok:
            self.request(zone.id)
        return reply.to_wire()

    # --- transfers ------------------------------------------------------------------
    def _work(self):
        while not self.stop_event.is_set():
            zone_id = self.queue.get()
            if zone_id is None:
                return
            with self.lock:
                self.pending.discard(zone_id)
            self.pull(zone_id)

    def pull(self, zone_id):
        """One transfer: IXFR from the held serial, AXFR as a fallback."""
        store = self.sim.store
        with store.lock:
            zone = store.zones.get(zone_id)
            if zone is None or zone.type != "secondary" or zone.primary is None:
                return False
            if zone.transfers_paused:
                zone.transfer_log.append({"kind": "paused", "serial": None, "error": None})
                return False
            host, port = zone.primary
            held = zone.xfr_zone
            name = zone.name
        attempts = [("IXFR", held), ("AXFR", None)] if held is not None else [("AXFR", None)]
        for kind, base in attempts:
            dzone = base if base is not None else dns.zone.Zone(name + ".")
            serial = 0 if base is not None else None
            try:
                query, _ = dns.xfr.make_query(dzone, serial=serial)
                dns.query.inbound_xfr(host, dzone, query=query, port=port,
                                      timeout=TRANSFER_TIMEOUT, lifetime=TRANSFER_LIFETIME)
            except (dns.exception.DNSException, OSError, ValueError) as err:
                self._log(zone_id, kind, None, f"{type(err).__name__}: {err}")
                continue
            self._install(zone_id, kind, dzone)
            return True
        return False

    def _log(self, zone_id, kind, serial, error):
        store = self.sim.store
        with store.lock:
            zone = store.zones.get(zone_id)
            if zone is not None:
                zone.transfer_log.append({"kind": kind, "serial": serial, "error": error})
                del zone.transfer_log[:-50]

    def _install(self, zone_id, kind, dzone):
        soa = dzone.get_rdataset("@", "SOA")
        serial = soa[0].serial if soa else None
        store = self.sim.store
        with store.lock:
            zone = store.zones.get(zone_id)
            if zone is None:
                return
            when = now_rfc3339()
            fresh = transferred_records(zone.name, dzone, when)
            for rid, rec in fresh.items():
                old = zone.records.get(rid)
                rec["created_on"] = old["created_on"] if old else when
                rec["modified_on"] = old["modified_on"] if old else when
                rec["_seq"] = old["_seq"] if old else next(store._seq)
            zone.records = fresh
            zone.xfr_zone = dzone
            zone.serial = serial
            zone.transfer_log.append({"kind": kind, "serial": serial, "error": None})
            del zone.transfer_log[:-50]

