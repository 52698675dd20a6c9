"""`make bench`: every benchmark, each reporting ratios against a baseline from the same run.

BENCH_SCALE_MIB (default 1024) sets the largest input of the validators-at-scale figures;
BENCH_PROXY_EXCHANGES (default 100,000) the length of the proxy's memory figure."""

import os

from tests.benchmarks import bench_proxy, bench_run, bench_scale, bench_server, bench_startup, bench_validators

bench_validators.main()
bench_scale.main(int(os.environ.get("BENCH_SCALE_MIB", "1024")) * bench_scale.MIB)
bench_startup.main()
bench_server.main()
bench_run.main()
bench_run.single_threaded_ratio()
bench_proxy.main(int(os.environ.get("BENCH_PROXY_EXCHANGES", "100000")))
