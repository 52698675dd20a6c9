"""`make bench`: every benchmark, each reporting ratios against a baseline from the same run."""

from tests.benchmarks import bench_server

bench_server.main()
