"""The benchmark suite reads wrk's own report: figures, latency percentiles and errors."""

from benchmarks import wrk

REPORT = """Running 5s test @ http://127.0.0.1:8000/
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.51ms    2.10ms  40.12ms   90.00%
    Req/Sec     2.46k   150.00     2.70k    80.00%
  Latency Distribution
     50%    6.10ms
     75%    7.00ms
     90%    8.50ms
     99%   15.30ms
  12300 requests in 5.00s, 45.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   2460.00
Transfer/sec:      9.02MB
"""


def test_the_report_gives_rate_transfer_percentiles_and_errors():
    result = wrk.parse(REPORT)
    assert result.requests_per_second == 2460.0
    assert round(result.bytes_per_second) == round(9.02 * 1024**2)
    assert (result.p50_ms, result.p99_ms) == (6.10, 15.30)
    assert result.errors == 2 + 1 + 4


def test_microseconds_and_seconds_are_milliseconds():
    report = REPORT.replace("50%    6.10ms", "50%  850.00us").replace("99%   15.30ms", "99%    1.20s")
    result = wrk.parse(report)
    assert (result.p50_ms, result.p99_ms) == (0.85, 1200.0)
