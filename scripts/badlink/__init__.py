"""Bad links on demand: a fault-injecting TCP proxy with profiles named after real links
(`proxy.py`), and, where the process may create network namespaces, the same profiles on a
veth pair shaped by the kernel (`netns.py`). Used by tests and by scripts/bench."""
