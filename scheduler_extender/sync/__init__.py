"""The sync process: where block locations are fetched, decoded and aggregated, beside the serving process.

Decoding a list-status answer is CPU work in Python: 1.4 s for a directory of 100,000 blocks, holding the
GIL, so in the serving process every call waiting meanwhile paid for it (p99 61-76 ms against 4-6 ms
without refreshes). Here it runs in a child of the serving process (`child.py`, at a lower CPU priority),
which sends back one compact entry per path (entries.py) that costs the serving process 0.2 ms to read.
`process.py` starts, watches and restarts it; `frames.py` is the wire between the two; `relay.py` brings
its metrics to the serving process's /metrics.
"""
