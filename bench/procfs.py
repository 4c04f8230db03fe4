"""What /proc says of a process: CPU time and resident memory (bench/run.py
and bench/live.py both measure with these)."""

import os
from pathlib import Path

CLOCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """utime + stime of the processes, in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
