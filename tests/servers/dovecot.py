"""A real Dovecot IMAP server on 127.0.0.1, configured in a temporary folder (Debian's dovecot-imapd, 2.3).

Dovecot runs as root (`dovecot -F -c CONF`, in the foreground, as a child of the test process) with
one passwd-file user whose maildir belongs to `nobody` (65534): Dovecot refuses to keep mail as root.
Its login processes run as the package's `dovenull` user, chrooted into `base_dir/login`, so every
folder on the way must be traversable by others (pytest's own tmp folders are 0700: not usable).

Gotchas for 2.3:
- plaintext LOGIN on a non-TLS port needs `disable_plaintext_auth = no` (2.4: `auth_allow_cleartext = yes`);
- `ssl = no` leaves no STARTTLS; `ssl_cert`/`ssl_key` take `<path`;
- unix socket paths under `base_dir` must stay below 108 bytes: the folder is short, under /tmp;
- a failed login makes Dovecot's anvil hold the next logins from that IP for seconds (the auth
  penalty; no setting turns it off, `auth_failure_delay` only shortens the failed answer itself):
  a wrong-password test gets a Dovecot of its own;
- the master waits about a second for its children on SIGTERM.

`available()` says why Dovecot cannot run here (None when it can).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.servers.certs import Certificate
from tests.servers.ports import spare_port

USER = "outreach"
PASSWORD = "imap-secret"
MAIL_UID = 65534  # nobody
MAIL_GID = 65534  # nogroup


def dovecot_binary() -> str | None:
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None


def available() -> str | None:
    """None when Dovecot can be started here; else the reason it cannot."""
    if dovecot_binary() is None:
        return "Dovecot is not installed (apt-get install dovecot-imapd; .ci/run installs it)"
    if os.geteuid() != 0:
        return "the Dovecot tests start Dovecot as root (it switches to nobody for the mail); not root here"
    for name in ("dovecot", "dovenull"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            return f"the system user {name!r} that Dovecot's package creates is missing"
    return None


class Dovecot:
    def __init__(self, certificate: Certificate | None = None) -> None:
        self.user = USER
        self.password = PASSWORD
        self.port = 0
        self.tls_port = 0
        self._certificate = certificate
        self._root = Path(tempfile.mkdtemp(prefix="dovecot-", dir="/tmp"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> str:
        path = self._root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _config(self) -> str:
        root = self._root
        lines = [
            f"base_dir = {root}/run",
            f"state_dir = {root}/state",
            f"log_path = {root}/dovecot.log",
            f"instance_name = outreach-test-{self.port}",
            "protocols = imap",
            "listen = 127.0.0.1",
            "disable_plaintext_auth = no",
            "auth_mechanisms = plain login",
            "auth_failure_delay = 0",  # 2 s by default: the wrong-password row would wait for it
            f"mail_location = maildir:{root}/mail/%u",
            "first_valid_uid = 1",
            "default_login_user = dovenull",
            "default_internal_user = dovecot",
            "passdb {",
            "  driver = passwd-file",
            f"  args = scheme=PLAIN username_format=%u {root}/users",
            "}",
            "userdb {",
            "  driver = passwd-file",
            f"  args = username_format=%u {root}/users",
            "}",
            "service imap-login {",
            "  inet_listener imap {",
            "    address = 127.0.0.1",
            f"    port = {self.port}",
            "  }",
            "  inet_listener imaps {",
            "    address = 127.0.0.1",
            f"    port = {self.tls_port}",
            "    ssl = yes",
            "  }",
            "}",
        ]
        if self._certificate is not None:
            lines += ["ssl = yes", f"ssl_cert = <{self._certificate.cert}", f"ssl_key = <{self._certificate.key}"]
            if Path("/usr/share/dovecot/dh.pem").exists():
                lines.append("ssl_dh = </usr/share/dovecot/dh.pem")
        else:
            lines.append("ssl = no")
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 20.0) -> None:
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("Dovecot is not installed")
        root = self._root
        root.chmod(0o755)
        (root / "mail").mkdir()
        os.chown(root / "mail", MAIL_UID, MAIL_GID)
        (root / "mail").chmod(0o700)
        if self._certificate is not None:
            # Dovecot reads the key as root before dropping privileges; the folder only needs to be reachable.
            for path in (self._certificate.cert, self._certificate.key):
                path.parent.chmod(0o755)
        (root / "users").write_text(
            f"{self.user}:{{PLAIN}}{self.password}:{MAIL_UID}:{MAIL_GID}::{root}/mail/{self.user}::\n"
        )
        self.port = spare_port()
        self.tls_port = spare_port() if self._certificate is not None else 0
        conf = root / "dovecot.conf"
        conf.write_text(self._config())
        self._process = subprocess.Popen(
            [binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"Dovecot exited at start: {stderr.strip()} {self.log.strip()}")
            if self._greets(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Dovecot did not answer on 127.0.0.1:{self.port}: {self.log.strip()}")

    @staticmethod
    def _greets(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                return connection.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
            if process.stderr is not None:
                process.stderr.close()
        shutil.rmtree(self._root, ignore_errors=True)
