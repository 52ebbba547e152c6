"""A real Kannel (Debian's kannel 1.4.5) on loopback for tests and benches.

Kannel() writes a configuration into a temporary folder with free loopback
ports, starts bearerbox, then smsbox once bearerbox's smsbox port listens,
and connects a fake SMSC client: the test plays the mobile network on that
TCP connection (spec/SMS.md, "Kannel facts"). stop() ends the processes it
started (SIGTERM to each, by pid; SIGKILL after 10 s).

The fake SMSC's line protocol: `<sender> <receiver> <type> <payload>`. A
phone sends (mobile-originated) `text <UTF-8>`; what Kannel sends
(mobile-terminated) arrives as `text <UTF-8>` (GSM-7 coding), `ucs-2
<url-encoded UTF-16BE>`, `data <url-encoded>`, or for each part of a
concatenated message `udh <url-encoded UDH> data <url-encoded part>`.
messages() puts the parts of a message back together and decodes it.
"""
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"


def free_port():
    """A port free on every address: bearerbox binds the wildcard, which a
    client socket bound to another loopback address with the same port
    (test_http_limits opens thousands) also blocks."""
    s = socket.socket()
    s.bind(("", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def end(p, f=None, timeout=10):
    """Stop a process this harness (or a bench) started: SIGTERM, SIGKILL
    after timeout seconds; close its output file."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    if f:
        f.close()


def installed():
    return os.access(BEARERBOX, os.X_OK) and os.access(SMSBOX, os.X_OK)


def _wait_listen(port, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _unquote(payload):
    return urllib.parse.unquote_to_bytes(payload.replace("+", "%20"))


class Message:
    """One message as the fake SMSC got it (its parts joined)."""

    def __init__(self, sender, receiver, coding, data, parts):
        self.sender, self.receiver, self.coding, self.data, self.parts = (
            sender, receiver, coding, data, parts)

    @property
    def text(self):
        if self.coding == "ucs-2":
            return self.data.decode("utf-16-be")
        return self.data.decode("utf-8")

    def __repr__(self):
        return f"Message({self.sender!r} -> {self.receiver!r}, {self.coding}, {self.parts} parts)"


class Kannel:
    """bearerbox + smsbox + a fake SMSC client, all on loopback."""

    def __init__(self, workdir, izin_port=None, gateway_token=None, max_messages=10,
                 count_only=False):
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.admin_port, self.box_port = free_port(), free_port()
        self.sendsms_port, self.smsc_port = free_port(), free_port()
        self.password = "pw-" + secrets.token_hex(8)
        self.admin_password = "adm-" + secrets.token_hex(8)
        self.izin_port = izin_port
        self.token = gateway_token
        self.max_messages = max_messages
        self.count_only = count_only  # benches: count lines, keep none
        self.procs = []
        self.lines = []
        self.count = 0
        self.lock = threading.Lock()
        self.sock = None

    @property
    def sendsms_url(self):
        return (f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"
                f"?username=izin&password={self.password}")

    def config(self):
        c = f"""group = core
admin-port = {self.admin_port}
admin-password = {self.admin_password}
admin-allow-ip = "127.0.0.1"
smsbox-port = {self.box_port}
box-allow-ip = "127.0.0.1"
log-file = "{self.dir}/bearerbox.log"
log-level = 2
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
port = {self.smsc_port}
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {self.sendsms_port}
log-file = "{self.dir}/smsbox.log"
log-level = 2
mo-recode = true

group = sendsms-user
username = izin
password = {self.password}
user-deny-ip = "*.*.*.*"
user-allow-ip = "127.0.0.1"
max-messages = {self.max_messages}
concatenation = true
"""
        if self.izin_port:
            c += f"""
group = sms-service
keyword = default
get-url = "http://127.0.0.1:{self.izin_port}/v1/sms/inbound?from=%p&to=%P&text=%a&id=%I&smsc=%i&time=%T&token={self.token}"
accept-x-kannel-headers = true
max-messages = 10
concatenation = true
"""
        return c

    def start(self, timeout=10, tries=3):
        """Start bearerbox and smsbox and connect the fake SMSC. The ports
        were free when they were picked; another process may take one
        before Kannel binds it ("Address already in use"): then new ports
        and again, up to tries times."""
        for attempt in range(tries):
            try:
                return self._start(timeout)
            except AssertionError as e:
                if "Address already in use" not in str(e) or attempt == tries - 1:
                    raise
                self.stop()
                self.admin_port, self.box_port = free_port(), free_port()
                self.sendsms_port, self.smsc_port = free_port(), free_port()

    def _start(self, timeout):
        path = os.path.join(self.dir, "kannel.conf")
        with open(path, "w") as f:
            f.write(self.config())
        os.chmod(path, 0o600)
        self._spawn(BEARERBOX, path, "bearerbox.out")
        if not _wait_listen(self.box_port, timeout):
            raise AssertionError("bearerbox did not listen: " + self._tail("bearerbox.out"))
        self._spawn(SMSBOX, path, "smsbox.out")
        if not _wait_listen(self.sendsms_port, timeout):
            raise AssertionError("smsbox did not listen: " + self._tail("smsbox.out"))
        # the mobile network connects to the fake SMSC and stays connected
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.smsc_port), timeout=2)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(None)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return self

    def _spawn(self, binary, conf, out):
        f = open(os.path.join(self.dir, out), "w")
        p = subprocess.Popen([binary, "-v", "1", conf], stdout=f, stderr=subprocess.STDOUT,
                             cwd=self.dir)
        self.procs.append((p, f))

    def _tail(self, name):
        try:
            with open(os.path.join(self.dir, name), errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = self.sock.recv(1 << 16)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            *done, buf = buf.split(b"\n")
            with self.lock:
                self.count += len(done)
                if not self.count_only:
                    self.lines.extend(x.decode("latin-1") for x in done)

    def mo(self, sender, receiver, text):
        """A phone sends text (UTF-8) to receiver."""
        self.sock.sendall(f"{sender} {receiver} text {text}\n".encode("utf-8"))

    def take_lines(self):
        with self.lock:
            out, self.lines = self.lines, []
        return out

    def messages(self, lines):
        """Lines as the fake SMSC got them, their parts joined, in order."""
        out, pending = [], {}
        for line in lines:
            f = line.split(" ", 5)
            sender, receiver, kind = f[0], f[1], f[2]
            if kind == "udh":
                udh = _unquote(f[3])
                data = _unquote(f[5]) if len(f) > 5 else b""
                # IE 0x00: 8-bit reference, total, number
                ref, total, num = udh[3], udh[4], udh[5]
                key = (sender, receiver, ref)
                pending.setdefault(key, {})[num] = data
                if len(pending[key]) == total:
                    parts = pending.pop(key)
                    joined = b"".join(parts[i] for i in sorted(parts))
                    out.append((sender, receiver, joined, total))
                continue
            payload = line.split(" ", 3)[3] if len(line.split(" ", 3)) > 3 else ""
            if kind == "text":
                out.append(Message(sender, receiver, "text", payload.encode("latin-1"), 1))
            else:
                out.append(Message(sender, receiver, kind, _unquote(payload), 1))
        # concatenated ones: UCS-2 when their bytes are, as izin sends Turkish
        msgs = []
        for m in out:
            if isinstance(m, Message):
                msgs.append(m)
                continue
            sender, receiver, joined, total = m
            try:
                joined.decode("utf-16-be")
                coding = "ucs-2" if len(joined) % 2 == 0 and b"\x00" in joined else "text"
            except UnicodeDecodeError:
                coding = "text"
            msgs.append(Message(sender, receiver, coding, joined, total))
        return msgs, pending

    def wait_lines(self, n, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if self.count >= n:
                    return True
            time.sleep(0.02)
        return False

    def stop(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
        for p, f in reversed(self.procs):  # smsbox, then bearerbox
            end(p, f)
        self.procs = []
