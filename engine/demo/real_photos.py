"""Real photographs shipped in Debian packages, and how to fetch them.

Shared by engine/demo/make_demo_gallery and tests/tools/make_phone_gallery so
both galleries are built from the same curated list. The packages are fetched
with `apt-get download` and unpacked with `dpkg -x` into a cache directory;
nothing is installed on the system.

Only real photographs are listed: the wallpaper packages also hold renders,
vector art and textures, which were looked at one by one and left out (see
EXCLUDED below), because a photo-cleaning engine has to be judged on the kind
of pixels a phone camera produces.
"""

import glob
import os
import subprocess
import sys
from dataclasses import dataclass

CACHE_DIR = os.environ.get(
    "PRECIOUS_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "precious", "registry")
)

PLASMA = "plasma-workspace-wallpapers"
MATE = "mate-backgrounds"
LOMIRI16 = "lomiri-wallpapers-16.04"
LOMIRI20 = "lomiri-wallpapers-20.04"
PALAPELI = "palapeli-data"
PHOTO_PACKAGES = [PLASMA, MATE, LOMIRI16, LOMIRI20, PALAPELI]


@dataclass(frozen=True)
class Source:
    key: str  # short stable name used in manifests
    package: str
    path: str  # path inside the package
    author: str
    license: str


def _plasma(name, author):
    # Every size in contents/images/ is the same 2560x1600 file; take that name.
    return Source(
        name,
        PLASMA,
        f"usr/share/wallpapers/{name}/contents/images/2560x1600.jpg",
        author,
        "LGPL-3.0 (metadata.json); package copyright: GPL-2+ (KDE Visual Design Group)",
    )


def _mate(name, author):
    return Source(name, MATE, f"usr/share/backgrounds/mate/nature/{name}.jpg", author, "GPL-2+")


def _lomiri(pkg, fname, author, lic):
    sub = "16.04" if pkg == LOMIRI16 else "20.04"
    key = fname.split("_by_")[0]
    return Source(key, pkg, f"usr/share/backgrounds/{fname}", author, f"{lic} (copyright: {sub}/{fname})")


def _palapeli(name, author, lic):
    return Source(name, PALAPELI, f"usr/share/palapeli/collection/{name}.jpg", author, lic)


# Fixed order: the generators index into this list with seeded RNGs.
SOURCES = [
    _plasma("BytheWater", "Maciej Wiklo"),
    _plasma("ColdRipple", "Risto Saukonpää"),
    _plasma("ColorfulCups", "Dmitri Popov"),
    _plasma("DarkestHour", "Risto Saukonpää"),
    _plasma("EveningGlow", "Ian Hex"),
    _plasma("FallenLeaf", "Martin Klapetek"),
    _plasma("Grey", "Sigi Sagi"),
    _plasma("Kite", "Risto Saukonpää"),
    _plasma("OneStandsOut", "Risto Saukonpää"),
    _plasma("Path", "Risto Saukonpää"),
    _plasma("summer_1am", "Risto Saukonpää"),
    _mate("Aqua", "Charles Barbin"),
    _mate("Blinds", "Lennart Poettering, Andrea Cimitan"),
    _mate("Dune", "Marco Cogoni, Hylke Bons"),
    _mate("FreshFlower", "Jens Ansorg"),
    _mate("Garden", "Charles Barbin"),
    _mate("GreenMeadow", "Timothy Schellhase, Lapo Calamandrei"),
    _mate("LadyBird", "Charles Barbin"),
    _mate("RainDrops", '"blackcombwhistler07"'),
    _mate("Storm", "Sergey Nazarov"),
    _mate("TwoWings", "Charles Barbin, Hylke Bons"),
    _mate("Wood", "Jean-François Fortin Tam"),
    _mate("YellowFlower", "Charles Barbin"),
    _lomiri(LOMIRI16, "Bridge_by_Sander_Klootwijk.jpg", "Sander Klootwijk", "CC-BY-SA-4.0"),
    _lomiri(LOMIRI16, "Dragonfly_by_Bolly.jpg", '"Bolly"', "CC-BY-SA-4.0"),
    _lomiri(LOMIRI16, "Picture_0B_by_freespace.jpg", 'Trevor "Freespace"', "CC-BY-4.0"),
    _lomiri(LOMIRI16, "Picture_1A_by_freespace.jpg", 'Trevor "Freespace"', "CC-BY-4.0"),
    _lomiri(LOMIRI16, "Wine_by_Jakkub_Mede.jpg", "Jakub Mede", "CC-BY-4.0"),
    _lomiri(LOMIRI16, "aitzgorri_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0"),
    _lomiri(LOMIRI16, "free_by_Peter_Nerlich.jpg", "Peter Nerlich", "CC-BY-SA-4.0"),
    _lomiri(LOMIRI16, "friends_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0"),
    _lomiri(LOMIRI16, "greentock_by_Peter_Nerlich.jpg", "Peter Nerlich", "CC-BY-SA-4.0"),
    _lomiri(LOMIRI16, "life_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0"),
    _lomiri(LOMIRI16, "picosdeeuropa_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0"),
    _lomiri(LOMIRI16, "seeding_by_Clements_Engelhardt.jpg", "Clemens Engelhardt", "CC0-1.0"),
    _lomiri(LOMIRI16, "sunset_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0"),
    _lomiri(LOMIRI20, "Kleiber_by_Lukas_Baubkus.jpg", "Lukas Baubkus", "CC-BY-SA-3.0"),
    _palapeli("castle-maintenon", "Eric Pouhier", "GFDL (desktop file: FDL)"),
    _palapeli("cincinnati-bridge", "Derek Jensen", "Public Domain"),
    _palapeli("citrus-fruits", "US Department of Agriculture", "Public Domain"),
    _palapeli("european-honey-bee", "John Severns", "Public Domain"),
    _palapeli("panther-chameleon-female", "B. Navez and others", "GNU-FDL"),
]

# Looked at and left out on purpose (renders, illustrations, textures, logos).
EXCLUDED = {
    PLASMA: "Altai Autumn Canopee Cascade Cluster Elarun Flow FlyingKonqui Honeywave IceCold "
    "Kay Kokkini MilkyWay Opal PastelHills Patak SafeLanding Shell Volna",
    MATE: "abstract/* (incl. Elephants: a painting, even though it carries SONY EXIF), desktop/*",
    LOMIRI16: "analogpattern, umang (abstract)",
    LOMIRI20: "Fossa, Infinite-Sea, Painting-Colors (artwork)",
    PALAPELI: "backgrounds/* (textures)",
}


def _run(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def fetch_deb(package, cache=CACHE_DIR):
    """Download (once) and unpack a Debian package; return its unpack root."""
    debs = os.path.join(cache, "debs")
    root = os.path.join(cache, "x", package)
    os.makedirs(debs, exist_ok=True)
    if os.path.isdir(root) and os.listdir(root):
        return root
    if not glob.glob(os.path.join(debs, f"{package}_*.deb")):
        r = _run(["apt-get", "download", package], debs)
        if r.returncode != 0:
            sys.exit(
                f"apt-get download {package} failed:\n{r.stdout}\n"
                "Run `apt-get update` once (as root) and try again."
            )
    deb = sorted(glob.glob(os.path.join(debs, f"{package}_*.deb")))[-1]
    os.makedirs(root, exist_ok=True)
    r = _run(["dpkg", "-x", deb, root], debs)
    if r.returncode != 0:
        sys.exit(f"dpkg -x {deb} failed:\n{r.stdout}")
    return root


def deb_version(package, cache=CACHE_DIR):
    debs = sorted(glob.glob(os.path.join(cache, "debs", f"{package}_*.deb")))
    return os.path.basename(debs[-1]).split("_")[1].replace("%3a", ":") if debs else "?"


def fetch_pypi(spec, binary, cache=CACHE_DIR):
    """Download (once) an sdist (binary=False) or wheel (binary=True) from PyPI."""
    dest = os.path.join(cache, "pypi")
    os.makedirs(dest, exist_ok=True)
    name = spec.split("==")[0].replace("-", "_").lower()
    version = spec.split("==")[1] if "==" in spec else ""

    def matches(f):  # file names use '_' or '-' between words; version follows
        return f.lower().replace("-", "_").startswith(f"{name}_{version}")

    have = [f for f in os.listdir(dest) if matches(f)]
    if not have:
        fmt = ["--only-binary", ":all:"] if binary else ["--no-binary", ":all:"]
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *fmt, "-d", dest, spec]
        r = _run(cmd, dest)
        if r.returncode != 0:
            sys.exit(f"pip download {spec} failed:\n{r.stdout}")
        have = [f for f in os.listdir(dest) if matches(f)]
    return os.path.join(dest, sorted(have)[-1])


def source_paths(cache=CACHE_DIR):
    """Fetch every photo package; return [(Source, absolute path)] in SOURCES order."""
    roots = {pkg: fetch_deb(pkg, cache) for pkg in PHOTO_PACKAGES}
    out = []
    for s in SOURCES:
        p = os.path.join(roots[s.package], s.path)
        if not os.path.exists(p):
            sys.exit(f"{s.package} no longer ships {s.path}; update engine/demo/real_photos.py")
        out.append((s, p))
    return out


def ensure_python_deps():
    """Import Pillow and numpy, pip-installing them if missing."""
    try:
        import numpy, PIL  # noqa: F401
    except ImportError:
        print("installing Pillow numpy with pip ...", file=sys.stderr)
        r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "Pillow", "numpy"])
        if r.returncode != 0:
            sys.exit("missing Python packages: pip install Pillow numpy")
