#!/usr/bin/env python3
"""Console benchmark: time from SSH connect to the first full frame, and server memory per open
console session. Starts `mamoru demo` (fictional data) with a fresh key, opens N real OpenSSH
sessions, each in its own pty, and reads the server's RSS from /proc.

    cargo build --release && python3 scripts/console-bench.py [N]
"""
import os, pty, select, subprocess, sys, tempfile, time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20
BIN = os.path.join(os.path.dirname(__file__), "..", "target", "release", "mamoru")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def settled_rss_kib(pid, timeout=10.0):
    """The server's RSS once it has stopped changing: five readings 100 ms apart within 1%
    (or whatever it is after `timeout` seconds)."""
    readings = [rss_kib(pid)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        select.select([], [], [], 0.1)
        readings = (readings + [rss_kib(pid)])[-5:]
        if len(readings) == 5 and max(readings) - min(readings) <= max(readings) // 100:
            break
    return readings[-1]


def main():
    tmp = tempfile.mkdtemp(prefix="mamoru-console-bench-")
    key = os.path.join(tmp, "key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    server = subprocess.Popen(
        [BIN, "demo", "--data", os.path.join(tmp, "data"), "--listen", "127.0.0.1:0",
         "--ssh-listen", "127.0.0.1:0", "--console-key", key + ".pub", "--children", "200"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "MAMORU_LOG": "warn"})
    port = None
    for line in server.stdout:
        if line.startswith("ssh: "):
            port = line.strip().rsplit(":", 1)[1]
            break
    base = settled_rss_kib(server.pid)
    times, sessions = [], []
    for _ in range(N):
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp("ssh", ["ssh", "-tt", "-i", key, "-o", "StrictHostKeyChecking=no",
                              "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                              "-p", port, "demo-admin@127.0.0.1"])
        start = time.perf_counter()
        seen = b""
        # The help bar is the last row drawn; wide characters arrive one cursor move apart.
        while "了".encode() not in seen:
            r, _, _ = select.select([fd], [], [], 10)
            if not r:
                raise SystemExit("no frame within 10 s")
            seen += os.read(fd, 65536)
        times.append((time.perf_counter() - start) * 1000)
        sessions.append((pid, fd))
    per = (settled_rss_kib(server.pid) - base) / N
    times.sort()
    p50 = times[len(times) // 2]
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(f"connect to first frame: p50 {p50:.0f} ms, max {times[-1]:.0f} ms, p99 {p99:.0f} ms over {N} sessions")
    print(f"server RSS: {base} KiB before, +{per:.0f} KiB per open console session")
    for pid, fd in sessions:
        os.write(fd, b"q")
    for pid, _ in sessions:
        os.waitpid(pid, 0)
    server.terminate()
    server.wait()


main()
