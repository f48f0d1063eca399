"""`python -m tests.multihost`: the multi-host checks (root and `ip netns` needed).

Extra arguments go to pytest (e.g. `-k failover`, `-x`). `python -m tests.multihost --cleanup`
deletes namespaces and bridges left by a run that was killed with SIGKILL."""
import sys
from pathlib import Path

import pytest

from .netns import remove_stale

if __name__ == "__main__":
    if sys.argv[1:] == ["--cleanup"]:
        print("\n".join(f"removed {name}" for name in remove_stale()) or "nothing to clean up")
        sys.exit(0)
    sys.exit(pytest.main(["-m", "multihost", "-p", "no:cacheprovider", "-q", "-rA",
                          str(Path(__file__).resolve().parent), *sys.argv[1:]]))
