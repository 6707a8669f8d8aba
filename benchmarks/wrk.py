"""Run `wrk` (Debian's package) against a URL on loopback and read its figures."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).with_name("lua")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    bytes_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int

    def as_dict(self) -> dict[str, float]:
        return {
            "req_s": round(self.requests_per_second, 1),
            "MB_s": round(self.bytes_per_second / 1e6, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "errors": self.errors,
        }


def require() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("The benchmarks need wrk: apt-get install wrk")
    return path


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def _bytes(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([KMG]?B)", text).groups()
    return float(number) * {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}[unit]


def run(
    url: str,
    *,
    seconds: int = 5,
    connections: int = 16,
    headers: dict[str, str] | None = None,
    script: str | None = None,
) -> WrkResult:
    """`wrk -t1 -c<connections> -d<seconds>s --latency` with the given headers (and Lua script)."""
    command = [require(), "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(LUA / script)]
    return parse(subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout)


def parse(out: str) -> WrkResult:
    """wrk's report (with --latency) as figures."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    transfer = _bytes(re.search(r"Transfer/sec:\s+([\d.]+[KMG]?B)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return WrkResult(rps, transfer, p50, p99, errors)
