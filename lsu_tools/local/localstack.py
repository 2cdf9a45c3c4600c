"""LocalStack as a second local AWS (issue 18): S3 and SQS served by LocalStack in host mode (no
Docker), from its own pinned virtualenv `.venv-localstack` (`make localstack-install`); DynamoDB
stays on the project's moto server, the functions in-process. Tooling only, never in chalicelib/.

    python -m lsu_tools.local.localstack run -- python -m pytest tests/integration tests/e2e

starts LocalStack on a free loopback port with a data directory of its own, exports
LSU_TEST_ENDPOINT_S3 and LSU_TEST_ENDPOINT_SQS for the command, runs it, stops LocalStack (the
process group it started, by its PID) and exits with the command's code. Two runs can coexist."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterable, Mapping

from lsu_tools.local.emulator import free_port, stop_process

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PYTHON = REPO / ".venv-localstack" / "bin" / "python"
# The services LocalStack serves here: its DynamoDB downloads Java and DynamoDB Local, its Lambda
# needs Docker; neither can start in host mode on this kind of machine.
SERVICES = ("s3", "sqs")
READY_STATES = ("available", "running")
EXIT_LOCALSTACK_FAILED = 2


class LocalStackError(RuntimeError):
    """LocalStack could not start (the message says why, in French, with the end of its log)."""


def localstack_python(environ: Mapping[str, str] | None = None) -> Path:
    """The interpreter of LocalStack's virtualenv: LSU_LOCALSTACK_PYTHON, else .venv-localstack."""
    env = os.environ if environ is None else environ
    return Path(env.get("LSU_LOCALSTACK_PYTHON") or DEFAULT_PYTHON)


def launch_env(base: Mapping[str, str], host: str, port: int, data_dir: str,
               services: Iterable[str] = SERVICES) -> dict[str, str]:
    """The environment of a LocalStack process in host mode: listening on host:port only, the
    given services, nothing persisted, no DNS server, no telemetry, every file under `data_dir`
    (two instances never share a folder), and queue URLs that resolve here (path strategy)."""
    env = {k: v for k, v in base.items()
           # The shell's AWS and LocalStack settings are not this instance's.
           if not k.startswith(("AWS_ENDPOINT_URL", "LSU_", "LOCALSTACK_", "GATEWAY_", "EDGE_"))}
    tmp = os.path.join(data_dir, "tmp")
    env.update({
        "GATEWAY_LISTEN": f"{host}:{port}",
        "LOCALSTACK_HOST": f"{host}:{port}",
        "SERVICES": ",".join(services),
        "PERSISTENCE": "0",
        "DNS_ADDRESS": "0",
        "DISABLE_EVENTS": "1",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "SQS_ENDPOINT_STRATEGY": "path",
        "FILESYSTEM_ROOT": os.path.join(data_dir, "filesystem"),
        "TMPDIR": tmp,
        "PYTHONUNBUFFERED": "1",
    })
    return env


def health_ready(payload: Mapping, services: Iterable[str] = SERVICES) -> bool:
    """True when LocalStack's /_localstack/health says every service asked for is usable."""
    states = payload.get("services") or {}
    return all(states.get(svc) in READY_STATES for svc in services)


def tier_env(endpoint: str, services: Iterable[str] = SERVICES) -> dict[str, str]:
    """The test fixtures' variables (tests/conftest.py): these services on `endpoint`, the others
    on the moto server the tests start."""
    return {f"LSU_TEST_ENDPOINT_{svc.upper()}": endpoint for svc in services}


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(journal illisible)"


class LocalStackServer:
    """Start/stop one LocalStack we own (by PID, in its own process group); `endpoint` is its URL.

    `with LocalStackServer() as ls:` — ls.endpoint, ls.log_path."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, services: Iterable[str] = SERVICES,
                 python: Path | str | None = None):
        self.host, self.port = host, port or free_port(host)
        self.services = tuple(services)
        self.python = Path(python) if python else localstack_python()
        self.proc: subprocess.Popen | None = None
        self.data_dir: str | None = None
        self.log_path: Path | None = None
        self._log = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def health(self) -> dict | None:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/_localstack/health", timeout=2) as resp:
                return json.loads(resp.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            return None

    def start(self, timeout: float = 90.0) -> "LocalStackServer":
        if not self.python.exists():
            raise LocalStackError(f"LocalStack n'est pas installé ({self.python} absent) : lancez "
                                  f"« make localstack-install ».")
        self.data_dir = tempfile.mkdtemp(prefix="lsu-localstack-")
        os.makedirs(os.path.join(self.data_dir, "tmp"))
        self.log_path = Path(self.data_dir) / "localstack.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(self.python), "-m", "localstack.runtime.main"], cwd=self.data_dir,
            env=launch_env(os.environ, self.host, self.port, self.data_dir, self.services),
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self._fail(f"LocalStack s'est arrêté au démarrage (code {self.proc.returncode})")
            payload = self.health()
            if payload is not None and health_ready(payload, self.services):
                return self
            if time.monotonic() > deadline:
                self._fail(f"LocalStack ne répond pas sur {self.endpoint} après {int(timeout)} s")
            time.sleep(0.2)

    def _fail(self, why: str) -> None:
        tail = log_tail(self.log_path) if self.log_path else ""
        log = self._keep_log()
        self.stop()
        raise LocalStackError(f"{why}. Journal : {log}\n{tail}")

    def _keep_log(self) -> str:
        """The log, copied out of the data directory (removed by stop) so it can be read later."""
        if not self.log_path or not self.log_path.exists():
            return "(aucun)"
        fd, kept = tempfile.mkstemp(prefix="lsu-localstack-", suffix=".log")
        os.close(fd)
        shutil.copyfile(self.log_path, kept)
        return kept

    def stop(self, timeout: float = 15.0) -> None:
        """Stops the process group this object started (SIGTERM, then SIGKILL after `timeout`)."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)     # its own session: the group id is its PID
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None

    def __enter__(self) -> "LocalStackServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def run(command: list[str], server: LocalStackServer) -> int:
    """`command` with S3 and SQS on a LocalStack started for it; its exit code."""
    try:
        server.start()
    except LocalStackError as exc:
        print(f"Erreur : {exc}", file=sys.stderr, flush=True)
        return EXIT_LOCALSTACK_FAILED
    try:
        print(f"LocalStack {','.join(server.services)} sur {server.endpoint} (journal : {server.log_path})",
              file=sys.stderr, flush=True)
        env = {**os.environ, **tier_env(server.endpoint, server.services)}
        try:
            child = subprocess.Popen(command, env=env)
        except OSError as exc:
            print(f"Erreur : commande impossible à lancer ({command[0]}) : {exc.strerror}", file=sys.stderr)
            return EXIT_LOCALSTACK_FAILED
        try:
            try:
                rc = child.wait()
            except KeyboardInterrupt:       # Ctrl-C reached the command too: its own code
                rc = child.wait()
            if rc != 0:                     # the log outlives the data folder, to read later
                print(f"Journal de LocalStack conservé : {server._keep_log()}", file=sys.stderr, flush=True)
            return rc
        except BaseException:               # SIGTERM (SystemExit): the command first, then LocalStack
            stop_process(child, timeout=30)
            raise
    finally:
        if server.proc is not None and server.proc.poll() is not None:
            print(f"LocalStack s'est arrêté pendant la commande (code {server.proc.returncode}) :\n"
                  f"{log_tail(server.log_path)}", file=sys.stderr, flush=True)
        server.stop()


def junit_counts(path: Path) -> dict | None:
    """A pytest run's counts and time from its JUnit XML (--junitxml); None if it has none."""
    import xml.etree.ElementTree as ET
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    total["time"] = sum(float(s.get("time", 0)) for s in suites)
    total["passed"] = total["tests"] - total["failures"] - total["errors"] - total["skipped"]
    return total


def tier_line(name: str, counts: dict | None) -> str:
    """« niveau moto : 812 réussis, 0 échoués, 0 en erreur, 0 ignorés — 312 s »."""
    if counts is None:
        return f"{name} : pas lancé (ou interrompu)"
    return (f"{name} : {counts['passed']} réussis, {counts['failures']} échoués, {counts['errors']} en erreur, "
            f"{counts['skipped']} ignorés — {counts['time']:.0f} s")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lsu_tools.local.localstack",
                                description="LocalStack (S3, SQS) en mode hôte, le temps d'une commande.")
    sub = p.add_subparsers(dest="action", required=True)
    r = sub.add_parser("run", help="démarrer LocalStack, lancer la commande (après --), tout arrêter")
    r.add_argument("--python", help="interpréteur de LocalStack (par défaut : LSU_LOCALSTACK_PYTHON, "
                                    "sinon .venv-localstack/bin/python)")
    r.add_argument("--port", type=int, help="port d'écoute (par défaut : un port libre)")
    r.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMANDE ARGUMENTS…")
    b = sub.add_parser("bilan", help="les comptes et durées des niveaux de tests (JUnit XML de pytest)")
    b.add_argument("niveaux", nargs="+", metavar="NOM=FICHIER.xml")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.action == "bilan":
        print("Bilan des niveaux de tests :")
        for niveau in args.niveaux:
            name, _, path = niveau.partition("=")
            print("  " + tier_line(name, junit_counts(Path(path))))
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        print("Erreur : indiquez la commande à lancer après « -- ».", file=sys.stderr)
        return EXIT_LOCALSTACK_FAILED
    # SIGTERM (CI cancelling the job) ends like Ctrl-C would: the command, then LocalStack, stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    return run(command, LocalStackServer(port=args.port, python=args.python))


if __name__ == "__main__":
    sys.exit(main())
