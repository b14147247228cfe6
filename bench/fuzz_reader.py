"""A longer fuzzing run of the register reader than CI's (default 2,000 examples).

    uv run python bench/fuzz_reader.py [EXAMPLES]
"""

import os
import subprocess
import sys
from pathlib import Path

examples = sys.argv[1] if len(sys.argv) > 1 else "2000"
root = Path(__file__).resolve().parents[1]
env = {**os.environ, "ARMSDASH_FUZZ_EXAMPLES": examples}
sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(root / "tests" / "test_fuzz_reader.py")], env=env, cwd=root))
