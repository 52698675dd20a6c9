"""`make bench`: every benchmark, each reporting ratios against a baseline from the same run."""

from tests.benchmarks import bench_run, bench_server, bench_startup, bench_validators

bench_validators.main()
bench_startup.main()
bench_server.main()
bench_run.main()
bench_run.single_threaded_ratio()
