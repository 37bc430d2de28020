"""`socialcx run` against the Bluesky and Mastodon mocks, served the default sample world's conversations of two
brands (SkyLarkAir through Mastodon, ParcelMartHelp through Bluesky); prints the run's summary and the
conversations per source. Usage: .venv/bin/python scripts/demo_open_networks.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    sys.path.insert(0, str(ROOT))
    import duckdb

    from extractors.sample import payloads
    from extractors.sample.generator import generate
    from tests.support.bluesky_mock import MockBluesky
    from tests.support.mastodon_mock import MockMastodon

    world = generate(20000, seed=42, end_date="2026-10-31")
    tmp = Path(tempfile.mkdtemp(prefix="socialcx-demo-"))
    sky_payload = payloads.bluesky(world, "ParcelMartHelp")
    password = "abcd-efgh-ijkl-mnop"
    with MockMastodon(token="demo-mastodon-token") as masto, \
            MockBluesky(handle=sky_payload["me"]["handle"], password=password) as sky:
        masto.load(payloads.mastodon(world, "SkyLarkAir"))
        sky.load(sky_payload)
        env = {**os.environ, "SOCIALCX_WAREHOUSE": str(tmp / "wh" / "socialcx.duckdb"),
               "SOCIALCX_PUBLISH_DIR": str(tmp / "published"), "SOCIALCX_REPORTS_DIR": str(tmp / "reports"),
               "SOCIALCX_SOURCES": "bluesky,mastodon", "SOCIALCX_MASTODON_BASE_URL": masto.url,
               "SOCIALCX_MASTODON_ACCESS_TOKEN": "demo-mastodon-token", "SOCIALCX_MASTODON_MAX_PAGES": "200",
               "SOCIALCX_BLUESKY_MAX_PAGES": "200", "SOCIALCX_BLUESKY_BASE_URL": sky.url,
               "SOCIALCX_BLUESKY_HANDLE": sky.handle, "SOCIALCX_BLUESKY_APP_PASSWORD": password}
        run = subprocess.run([str(Path(sys.executable).parent / "socialcx"), "run"], env=env, cwd=ROOT, text=True,
                             capture_output=True)
        print(run.stdout)
        if run.returncode:
            sys.exit(run.stderr[-3000:])
        print(f"requests: mastodon {len(masto.requests)}, bluesky {len(sky.requests)}")
    with duckdb.connect(str(tmp / "published" / "socialcx.duckdb"), read_only=True) as con:
        for row in con.execute("""select source, brand, count(*) as conversations,
                count(*) filter (where is_responded) as answered, count(*) filter (where outcome = 'resolved') as resolved
                from marts.fct_conversations group by all order by source""").fetchall():
            print(row)


if __name__ == "__main__":
    main()
