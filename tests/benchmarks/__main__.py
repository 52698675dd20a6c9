"""`make bench`: every benchmark, each reporting ratios against a baseline from the same run.

BENCH_SCALE_MIB (default 1024) sets the largest input of the validators-at-scale figures."""

import os

from tests.benchmarks import bench_run, bench_scale, bench_server, bench_startup, bench_validators

bench_validators.main()
bench_scale.main(int(os.environ.get("BENCH_SCALE_MIB", "1024")) * bench_scale.MIB)
bench_startup.main()
bench_server.main()
bench_run.main()
bench_run.single_threaded_ratio()
