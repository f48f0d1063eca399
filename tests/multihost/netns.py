"""Hosts as Linux network namespaces on one private bridge, and the processes they run.

Every name carries the pid of the run that made it (`lmsmh<pid>-app1`, bridge `mh<pid>br`), so
clean-up only ever removes what this run created, or what a run whose process is gone left behind.
The bridge lives in the root namespace with the subnet's .1 address: the test process reaches every
host through it and nothing else is routed (no default route in any host).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from lms_soap.sandbox.processes import process_alive

PREFIX = "lmsmh"
#: Seconds a process group gets between SIGTERM and SIGKILL at clean-up.
TERM_GRACE_SECONDS = 3.0


class HarnessError(RuntimeError):
    """The multi-host harness could not be built or a host did not come up."""


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise HarnessError(f"{' '.join(argv)}: {result.stderr.strip() or result.returncode}")
    return result


def namespaces_supported() -> tuple[bool, str]:
    """Whether this machine lets us create network namespaces (root, iproute2), and why not."""
    if os.geteuid() != 0:
        return False, "not root"
    probe = f"{PREFIX}{os.getpid()}-probe"
    try:
        result = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=10)
    except FileNotFoundError:
        return False, "iproute2 (`ip`) is not installed"
    if result.returncode != 0:
        return False, f"`ip netns add` failed: {result.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10)
    return True, "ip netns works"


def free_subnet() -> str:
    """A 10.231.X prefix no interface of this machine uses yet."""
    used = set(re.findall(r"inet 10\.231\.(\d+)\.", sh("ip", "-4", "addr").stdout))
    for third in range(8, 250):
        if str(third) not in used:
            return f"10.231.{third}"
    raise HarnessError("no free 10.231.X.0/24 subnet")


def remove_stale() -> list[str]:
    """Delete namespaces and bridges left by a harness run whose process no longer exists."""
    removed = []
    for name in sh("ip", "netns", "list", check=False).stdout.split():
        match = re.fullmatch(rf"{PREFIX}(\d+)-\w+", name)
        if match and not process_alive(int(match.group(1))):
            _kill_namespace_processes(name)
            sh("ip", "netns", "del", name, check=False)
            removed.append(name)
    for match in re.finditer(r"^\d+: (mh(\d+)br)[:@]", sh("ip", "-o", "link", check=False).stdout, re.M):
        if not process_alive(int(match.group(2))):
            sh("ip", "link", "del", match.group(1), check=False)
            removed.append(match.group(1))
    return removed


def _kill_namespace_processes(name: str) -> None:
    pids = sh("ip", "netns", "pids", name, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.popen.pid, sig)  # its own session: the gunicorn workers too
        except ProcessLookupError:
            pass

    def group_pids(self) -> list[int]:
        """The process and every live descendant (gunicorn's workers share its process group;
        PostgreSQL's backends call setsid(), so they are found by parent, not by group)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                children.setdefault(int(fields[1]), []).append(int(entry.name))  # field 4: the parent
        found, todo = [], [self.popen.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Host:
    """One network namespace with one address on the bridge."""

    net: "Network"
    role: str
    address: str
    processes: list[Process] = field(default_factory=list)

    @property
    def namespace(self) -> str:
        return f"{self.net.prefix}-{self.role}"

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        return sh("ip", "netns", "exec", self.namespace, *argv, check=check)

    def run_input(self, argv: list[str], stdin: str, timeout: float, env: dict[str, str]) -> str:
        """Run argv here with stdin; its stdout (stderr goes to the host's log)."""
        process = self.popen_input(argv, stdin, env)
        try:
            out, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise HarnessError(f"{argv} on {self.role} took longer than {timeout:.0f} s") from None
        if process.returncode != 0:
            raise HarnessError(f"{argv} on {self.role} exited {process.returncode}")
        return out

    def popen_input(self, argv: list[str], stdin: str, env: dict[str, str]) -> subprocess.Popen:
        log = open(self.net.log_dir / f"{self.role}-driver.log", "ab")
        process = subprocess.Popen(["ip", "netns", "exec", self.namespace, *argv], env=env, text=True,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                   start_new_session=True)
        log.close()
        process.stdin.write(stdin)
        process.stdin.close()
        process.stdin = None  # communicate() must not touch the closed pipe
        return process

    def spawn(self, name: str, argv: list[str], env: dict[str, str], user: str | None = None,
              cwd: str | None = None) -> Process:
        """Start argv in this namespace, in a session of its own, output in <logs>/<host>-<name>.log."""
        prefix = ["ip", "netns", "exec", self.namespace]
        if user:  # setpriv execs: the pid stays the program's, and the namespace is entered as root first
            prefix += ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"]
        log_path = self.net.log_dir / f"{self.role}-{name}.log"
        with open(log_path, "ab") as log:
            popen = subprocess.Popen(prefix + argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True, cwd=cwd)
        process = Process(name, popen, log_path)
        self.processes.append(process)
        return process

    def kill_all(self, sig: int = signal.SIGKILL) -> None:
        """Every process of the host at once (a host that loses power)."""
        for process in self.processes:
            process.signal_group(sig)
        for process in self.processes:
            try:
                process.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.signal_group(signal.SIGKILL)
        self.processes.clear()

    def stop_all(self) -> None:
        for process in self.processes:
            process.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + TERM_GRACE_SECONDS
        for process in self.processes:
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        self.kill_all()

    def block(self, other: "Host") -> None:
        """Cut this host off from `other`: connects and sends to it fail at once (EACCES)."""
        self.run("ip", "route", "add", "prohibit", f"{other.address}/32")

    def unblock(self, other: "Host") -> None:
        self.run("ip", "route", "del", "prohibit", f"{other.address}/32", check=False)


class Network:
    """A bridge in the root namespace and one namespace per host, all named after this run's pid."""

    def __init__(self, log_dir: Path):
        self.pid = os.getpid()
        self.prefix = f"{PREFIX}{self.pid}"
        self.bridge = f"mh{self.pid}br"
        self.subnet = free_subnet()
        self.gateway = f"{self.subnet}.1"
        self.log_dir = log_dir
        self.hosts: dict[str, Host] = {}
        self._next = 10

    def create(self) -> "Network":
        remove_stale()
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        sh("ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")
        return self

    def add_host(self, role: str) -> Host:
        host = Host(self, role, f"{self.subnet}.{self._next}")
        self._next += 1
        veth = f"mh{self.pid}{role[0]}{role[-1]}"[:15]
        sh("ip", "netns", "add", host.namespace)
        self.hosts[role] = host
        sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", host.namespace)
        sh("ip", "link", "set", veth, "master", self.bridge)
        sh("ip", "link", "set", veth, "up")
        host.run("ip", "link", "set", "lo", "up")
        host.run("ip", "addr", "add", f"{host.address}/24", "dev", "eth0")
        host.run("ip", "link", "set", "eth0", "up")
        return host

    def destroy(self) -> None:
        for host in self.hosts.values():
            host.stop_all()
        for host in self.hosts.values():
            _kill_namespace_processes(host.namespace)  # anything a child left behind
            sh("ip", "netns", "del", host.namespace, check=False)
        sh("ip", "link", "del", self.bridge, check=False)
        self.hosts.clear()
