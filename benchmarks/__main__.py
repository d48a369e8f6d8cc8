"""``python -m benchmarks``: run every workload and print the table."""
from .run import main

main()
