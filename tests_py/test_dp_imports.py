"""The release model's Python imports only the OpenDP it uses.

``opendp.prelude`` also imports OpenDP's scikit-learn and Polars extras (896 modules here):
1.3 s of every dbt build that runs ``spots_insights_v1_releases``, against 0.15 s for the
OpenDP modules the package calls. A fresh interpreter imports what the release model
imports and must load none of them.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sklearn", "polars", "scipy", "opendp.extras")


def test_the_release_model_entry_point_loads_no_opendp_extras():
    probe = (
        "import json, sys\n"
        "import privacy_insights.dp.dbt_entry\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(heavy))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
