"""The renderer on real files made by others (../shared/corpus, see its MANIFEST.md).

Similarity is measured as the mean absolute difference per channel (0-255) between two
renders of the same size; thresholds are stated with each test.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

pyvips = pytest.importorskip("pyvips")

import isrender  # noqa: E402
from isrender import errors  # noqa: E402
from tests.conftest import shared_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def corpus(*parts: str) -> Path:
    return shared_path("corpus", *parts)


def rendered(path: Path, modifiers: str) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(isrender.render(path, modifiers).data, "")


def mean_difference(a: pyvips.Image, b: pyvips.Image) -> float:
    assert (a.width, a.height, a.bands) == (b.width, b.height, b.bands)
    return float((a.cast("float") - b.cast("float")).abs().avg())


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientations_give_the_same_upright_picture(orientation: int) -> None:
    """All eight give the orientation-1 picture: mean difference < 4 of 255."""
    reference = rendered(corpus("exif", "Landscape_1.jpg"), "wid=360&fmt=png")
    image = rendered(corpus("exif", f"Landscape_{orientation}.jpg"), "wid=360&fmt=png")
    assert (image.width, image.height) == (360, 240)
    assert mean_difference(image, reference) < 4


def _pillow_srgb(path: Path) -> pyvips.Image:
    """Pillow + littleCMS: the file's embedded profile to sRGB, as the colour reference."""
    pil = pytest.importorskip("PIL.Image")
    image_cms = pytest.importorskip("PIL.ImageCms")
    with pil.open(path) as image:
        image.load()
        icc = image.info.get("icc_profile")
        assert icc, f"{path.name} has no embedded profile"
        source = image_cms.ImageCmsProfile(io.BytesIO(icc))
        converted = image_cms.profileToProfile(
            image,
            source,
            image_cms.createProfile("sRGB"),
            outputMode="RGB",
            renderingIntent=image_cms.Intent.RELATIVE_COLORIMETRIC,  # libvips' default too
        )
    data = converted.tobytes()
    return pyvips.Image.new_from_memory(data, converted.width, converted.height, 3, "uchar")


@pytest.mark.parametrize(
    ("name", "threshold"),
    [
        (("jpeg", "cmyk-icc.jpg"), 3.0),  # CMYK + SWOP profile
        (("tiff", "cmyk-fogra39.tif"), 3.0),  # CMYK + FOGRA39 profile
        (("jpeg", "sample-a98.jpg"), 3.0),  # Adobe RGB compatible
        (("png", "prophoto-1x1.png"), 3.0),  # ProPhoto RGB
    ],
    ids=lambda v: v[1] if isinstance(v, tuple) else str(v),
)
def test_colour_managed_sources_match_a_littlecms_reference(
    name: tuple[str, str], threshold: float
) -> None:
    """Converted through their embedded profile to sRGB (relative colorimetric): mean
    difference to Pillow/ImageCms below 3 of 255 (both use littleCMS; rounding differs)."""
    path = corpus(*name)
    reference = _pillow_srgb(path)
    ours = rendered(path, "scl=1&fmt=png")
    assert mean_difference(ours, reference) < threshold


def test_untagged_cmyk_with_orientation_matches_the_srgb_original() -> None:
    """The CMYK copy stores the sRGB photo's pixels with EXIF orientation 6 and no profile:
    upright, it is the original turned clockwise. It was separated with some other profile
    than the fallback, so colours differ (mean difference 28 of 255); the orientation test
    is that turning clockwise matches clearly better than counter-clockwise (45)."""
    cmyk = rendered(corpus("jpeg", "giunchedi-cmyk-noicc-orient6.jpg"), "wid=400&fmt=png")
    clockwise = rendered(corpus("jpeg", "giunchedi-srgb.jpg"), "rotate=90&wid=400&fmt=png")
    counter = rendered(corpus("jpeg", "giunchedi-srgb.jpg"), "rotate=270&wid=400&fmt=png")
    assert mean_difference(cmyk, clockwise) < 32
    assert mean_difference(cmyk, clockwise) < mean_difference(cmyk, counter) - 10


@pytest.mark.parametrize(
    "name",
    [
        ("png", "sample-rgb16.png"),
        ("png", "basn4a16.png"),
        ("tiff", "rgb16-adobergb.tiff"),
        ("png", "basn2c16.png"),
    ],
    ids=lambda v: v[1],
)
def test_16_bit_sources_convert_to_8_bit(name: tuple[str, str]) -> None:
    for fmt, bands in (("png", 3), ("jpeg", 3), ("png-alpha", None)):
        image = rendered(corpus(*name), f"scl=1&fmt={fmt}")
        assert image.format == "uchar"
        assert bands is None or image.bands == bands


def test_interlaced_png_decodes_like_the_plain_one() -> None:
    a = rendered(corpus("png", "basi2c16.png"), "scl=1&fmt=png")
    b = rendered(corpus("png", "basn2c16.png"), "scl=1&fmt=png")
    assert mean_difference(a, b) == 0


@pytest.mark.parametrize(
    ("name", "error"),
    [
        (("bad", "truncated.jpg"), errors.CorruptSourceError),
        (("bad", "truncated.png"), errors.CorruptSourceError),
        (("bad", "truncated.gif"), errors.CorruptSourceError),
        (("bad", "corrupt-header.jpg"), errors.SourceFormatError),
        (("bad", "one-byte.jpg"), errors.SourceFormatError),
        (("bomb", "16384x16384.png"), errors.SourceTooLargeError),
        (("bomb", "17000x17000.avif"), errors.SourceTooLargeError),
        (("heif", "hevc-256.heic"), errors.SourceFormatError),
    ],
    ids=lambda v: v[1] if isinstance(v, tuple) else v.__name__,
)
def test_bad_files_are_refused_with_the_right_error(
    name: tuple[str, str], error: type[Exception], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bombs are refused from the header: the decoder is never started for them."""
    if error is errors.SourceTooLargeError:

        def no_decoding(*_: object) -> None:
            raise AssertionError("the source was decoded")

        monkeypatch.setattr("isrender.render.vips.renderer.load_source", no_decoding)
    for modifiers in ("wid=200", "scl=1"):
        with pytest.raises(error) as info:
            isrender.render(corpus(*name), modifiers)
        assert str(info.value) and "/" not in str(info.value)  # public: no paths


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus' big and hostile files, made by its make_synthetic.py (about 6 s)."""
    folder = tmp_path_factory.mktemp("generated")
    script = corpus("make_synthetic.py")
    subprocess.run([sys.executable, str(script), str(folder)], check=True, capture_output=True)
    return folder


PROBE = """
import json, re, sys, time, isrender

def peak():  # VmHWM is this process' own peak; ru_maxrss would include the forking parent's
    status = open("/proc/self/status").read()
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024

isrender.render(sys.argv[1], "wid=30")  # first-call imports and libvips' set-up, not a decode
warm = peak()
results = {}
for path in sys.argv[2:]:
    started, before = time.perf_counter(), peak()
    try:
        isrender.render(path, "wid=300")
        outcome = "rendered"
    except isrender.IsRenderError as exc:
        outcome = type(exc).__name__
    results[path.rsplit("/", 1)[-1]] = [outcome, time.perf_counter() - started, peak() - before]
print(json.dumps({"results": results, "peak_mb": peak(), "warm_mb": warm}))
"""


def test_hostile_files_are_refused_without_large_memory(generated: Path) -> None:
    """Bombs (900 Mpx claimed) and truncated 24 Mpx JPEGs, in a fresh process: each refused
    with the right error. No bomb raises the process' peak by more than 8 MB (the 1-bit bomb
    alone would need 0.9 GB decoded); the truncated progressive JPEG may take its coefficient
    buffer (~72 MB for 24 Mpx: libjpeg reads every scan before it finds the end missing), and
    the files together raise the process' peak by less than 90 MB over what it was once warm
    (76 MB measured). The bound was 135 MB for the whole process, which peaked at 119-120.4 MB,
    until numpy (13 MB of libraries, with simplejpeg) raised what a warm process holds."""
    files = [
        generated / "bomb-30000x30000-1bit.png",
        generated / "bomb-30000x30000-claim.png",
        generated / "truncated-baseline.jpg",
        generated / "truncated-progressive.jpg",
        corpus("bomb", "16384x16384.png"),
    ]
    output = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            str(corpus("jpeg", "concert-grey-icc.jpg")),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    report = json.loads(output)
    expected = {
        "bomb-30000x30000-1bit.png": "SourceTooLargeError",
        "bomb-30000x30000-claim.png": "SourceTooLargeError",
        "truncated-baseline.jpg": "CorruptSourceError",
        "truncated-progressive.jpg": "CorruptSourceError",
        "16384x16384.png": "SourceTooLargeError",
    }
    assert {k: v[0] for k, v in report["results"].items()} == expected
    bombs = [name for name, error in expected.items() if error == "SourceTooLargeError"]
    assert all(report["results"][name][2] < 8 for name in bombs), report
    assert report["peak_mb"] - report["warm_mb"] < 90, report


def test_animated_sources_render_their_first_frame() -> None:
    gif = rendered(corpus("gif", "animated-30f.gif"), "fmt=png-alpha")
    assert (gif.width, gif.height) == (80, 80) and gif.get_typeof("n-pages") in (0, gint(1))
    webp = rendered(corpus("webp", "animated-9f.webp"), "fmt=png-alpha")
    assert (webp.width, webp.height) == (80, 80)


def gint(value: int) -> int:
    return pyvips.GValue.gint_type if value else 0


@pytest.mark.parametrize(
    "name",
    [
        ("webp", "lossy.webp"),
        ("webp", "lossless-alpha.webp"),
        ("tiff", "lzw-ycbcr-subsampled.tif"),
        ("tiff", "multipage-g3.tif"),
        ("jpeg", "concert-grey-icc.jpg"),
        ("jpeg", "ultra-hdr.jpg"),
        ("heif", "photo-p3-orient6.avif"),
        ("png", "paletted-transparent.png"),
        ("gif", "interlaced-transparent.gif"),
        ("jpeg", "progressive-orient6.jpg"),
    ],
    ids=lambda v: v[1],
)
def test_every_other_corpus_file_converts(name: tuple[str, str]) -> None:
    image = rendered(corpus(*name), "wid=120&fmt=png")
    assert image.width == 120 and image.bands == 3 and image.format == "uchar"


def test_avif_with_heif_rotation_is_upright() -> None:
    """photo-p3-orient6.avif is stored 3024x4032 with an irot transform: shown landscape or
    portrait as its header says, never sideways."""
    info = isrender.render.vips.renderer.read_source_info(corpus("heif", "photo-p3-orient6.avif"))  # type: ignore[attr-defined]
    image = rendered(corpus("heif", "photo-p3-orient6.avif"), "wid=300&fmt=png")
    assert image.height == round(300 * info.height / info.width)
