"""Time dicomrle against the other RLE Lossless encoders, side by side.

Every plugin encodes the same frames through pydicom's own API,
``RLELosslessEncoder.iter_encode(src, encoding_plugin=...)``, in one run,
on one core, interleaved image by image (best of N per image), so that the
ratios hold on a noisy machine even when the absolute numbers do not.

    python benchmarks/compare.py                  # full run
    python benchmarks/compare.py --quick          # CI: well under a minute
    python benchmarks/compare.py --json out.json --markdown RESULTS.md

Sizes: GDCM writes odd-length segments without the pad byte PS3.5 G.3
requires; its sizes here add the missing pad bytes back ("GDCM padded").
The kernel section times the C kernel alone, byte-plane split included, on
whole 16-bit CT and MR frames: through a ``Workspace`` (the output and
scratch buffers made once and reused, as ``dicomrle.compress`` does) and
through ``dicomrle.codec.rle.encode`` (a fresh ``bytes`` object per frame, whose
page faults it pays), against imagecodecs' C PackBits encoder on the same
frames' byte planes (split done beforehand, not counted; a fresh output per
call).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support/
from support import frames as corpus  # noqa: E402

PLUGINS = ("dicomrle", "pylibjpeg", "gdcm", "pydicom")
PEERS = ("pylibjpeg", "gdcm", "pydicom")
LABELS = {
    "dicomrle": "dicomrle",
    "pylibjpeg": "pylibjpeg-rle",
    "gdcm": "GDCM",
    "pydicom": "pydicom (Python)",
}
# GDCM's pydicom plugin aborts the interpreter on this 3x3 RGB file.
GDCM_SKIP = {"SC_rgb_small_odd.dcm"}


@dataclass
class Case:
    name: str
    nbytes: int
    call: Callable[[str], list[bytes]]
    times: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    gdcm_missing_pad: int = 0


def rle_encoder():  # type: ignore[no-untyped-def]
    from pydicom.pixels.encoders import RLELosslessEncoder

    return RLELosslessEncoder


def padded_size(frame: bytes) -> tuple[int, int]:
    """Size of an encoded frame with every segment padded to even length,
    and the number of pad bytes that were missing."""
    header = np.frombuffer(frame[:64], "<u4")
    count = int(header[0])
    offsets = [int(o) for o in header[1 : 1 + count]] + [len(frame)]
    missing = sum((offsets[k + 1] - offsets[k]) % 2 for k in range(count))
    return len(frame) + missing, missing


def corpus_cases(quiet: bool) -> list[Case]:
    import pydicom

    encoder = rle_encoder()
    cases = []
    for path in corpus.corpus_paths():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)
            nbytes = len(ds.PixelData)

        def call(plugin: str, ds=ds) -> list[bytes]:  # type: ignore[no-untyped-def]
            return list(encoder.iter_encode(ds, encoding_plugin=plugin))

        cases.append(Case(f"{path.parent.name}/{path.name}", nbytes, call))
    return cases


def synthetic_cases() -> list[Case]:
    encoder = rle_encoder()
    cases = []
    for image in corpus.synthetic_images(scale=2):
        src = image.data
        kwargs = dict(
            rows=image.rows,
            columns=image.columns,
            number_of_frames=1,
            samples_per_pixel=1,
            bits_allocated=image.bits_allocated,
            bits_stored=image.bits_stored,
            pixel_representation=0,
            photometric_interpretation="MONOCHROME2",
        )

        def call(plugin: str, src=src, kwargs=kwargs) -> list[bytes]:  # type: ignore[no-untyped-def]
            return list(encoder.iter_encode(src, encoding_plugin=plugin, **kwargs))

        cases.append(Case(image.name, len(src), call))
    return cases


def best_time(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run_cases(cases: list[Case], plugins: list[str], repeats: int,
              pydicom_limit: int | None, notes: list[str]) -> None:
    for case in cases:
        for plugin in plugins:
            short = case.name.split("/")[-1]
            if plugin == "gdcm" and short in GDCM_SKIP:
                notes.append(f"GDCM skipped on {case.name}: its plugin aborts the interpreter there")
                continue
            if plugin == "pydicom" and pydicom_limit and case.nbytes > pydicom_limit:
                continue
            try:
                frames = case.call(plugin)  # warm-up, and the output sizes
            except Exception as exc:  # noqa: BLE001 - reported, then skipped
                if plugin == "dicomrle":
                    notes.append(f"{case.name} skipped: pydicom refuses it ({str(exc)[:90]})")
                    break
                notes.append(f"{LABELS[plugin]} failed on {case.name}: {str(exc)[:90]}")
                continue
            if plugin == "gdcm":
                sizes = [padded_size(f) for f in frames]
                case.sizes[plugin] = sum(s for s, _ in sizes)
                case.gdcm_missing_pad = sum(m for _, m in sizes)
            else:
                case.sizes[plugin] = sum(len(f) for f in frames)
            reps = 1 if plugin == "pydicom" else repeats
            case.times[plugin] = best_time(lambda: case.call(plugin), reps)


def summarize(cases: list[Case], plugins: list[str]) -> dict:
    """Totals per plugin, and dicomrle's ratios on the cases both ran."""
    out: dict = {"plugins": {}, "ratios": {}, "size_vs_gdcm": {}}
    for plugin in plugins:
        done = [c for c in cases if plugin in c.times]
        t = sum(c.times[plugin] for c in done)
        n = sum(c.nbytes for c in done)
        out["plugins"][plugin] = {
            "images": len(done),
            "bytes_in": n,
            "seconds": t,
            "mb_per_s": n / t / 1e6 if t else None,
            "bytes_out": sum(c.sizes[plugin] for c in done),
        }
    for peer in plugins:
        if peer == "dicomrle":
            continue
        both = [c for c in cases if peer in c.times and "dicomrle" in c.times]
        if not both:
            continue
        ours = sum(c.times["dicomrle"] for c in both)
        theirs = sum(c.times[peer] for c in both)
        out["ratios"][peer] = {
            "images": len(both),
            "speedup": theirs / ours,
            "size_ratio": sum(c.sizes[peer] for c in both)
            / sum(c.sizes["dicomrle"] for c in both),
        }
    both = [c for c in cases if "gdcm" in c.sizes and "dicomrle" in c.sizes]
    larger = [c.name for c in both if c.sizes["dicomrle"] > c.sizes["gdcm"]]
    out["size_vs_gdcm"] = {
        "images": len(both),
        "larger_than_gdcm": larger,
        "gdcm_missing_pad_bytes": sum(c.gdcm_missing_pad for c in both),
        "dicomrle_bytes": sum(c.sizes["dicomrle"] for c in both),
        "gdcm_padded_bytes": sum(c.sizes["gdcm"] for c in both),
    }
    return out


def kernel_bench(repeats: int) -> dict:
    """The C kernel on whole 16-bit CT/MR frames vs imagecodecs' PackBits."""
    from dicomrle.codec import rle as _rle

    try:
        import imagecodecs
    except ImportError:
        return {"note": "imagecodecs is not installed"}
    import pydicom

    rows = []
    for image in corpus.corpus_images():
        if image.bits_allocated != 16 or image.samples != 1 or image.rows * image.columns < 128 * 128:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            modality = pydicom.dcmread(image.path, stop_before_pixels=True).get("Modality", "")
        if modality not in ("CT", "MR"):
            continue
        frame = bytes(image.frame(0))
        desc = _rle.Frame(image.rows, image.columns, 1, 16)
        words = np.frombuffer(frame, "<u2").reshape(image.rows, image.columns)
        high = np.ascontiguousarray((words >> 8).astype(np.uint8))
        low = np.ascontiguousarray((words & 0xFF).astype(np.uint8))
        space = _rle.Workspace(desc)
        scalar_space = _rle.Workspace(desc, isa="scalar")
        t_space = t_fast = t_scalar = t_pb = float("inf")
        for _ in range(repeats):  # interleaved, best of N each
            t_space = min(t_space, best_time(lambda: space.encode(frame), 1))
            t_fast = min(t_fast, best_time(lambda: _rle.encode(desc, frame), 1))
            t_scalar = min(t_scalar, best_time(lambda: scalar_space.encode(frame), 1))
            t_pb = min(t_pb, best_time(
                lambda: (imagecodecs.packbits_encode(high), imagecodecs.packbits_encode(low)), 1))
        rows.append({
            "name": image.name, "modality": modality, "bytes": len(frame),
            "dicomrle_s": t_space, "fresh_s": t_fast, "scalar_s": t_scalar, "packbits_s": t_pb,
            "dicomrle_out": len(_rle.encode(desc, frame)),
            "packbits_out": len(imagecodecs.packbits_encode(high)) + len(imagecodecs.packbits_encode(low)),
        })
    n = sum(r["bytes"] for r in rows)
    fast = sum(r["dicomrle_s"] for r in rows)
    fresh = sum(r["fresh_s"] for r in rows)
    scalar = sum(r["scalar_s"] for r in rows)
    pb = sum(r["packbits_s"] for r in rows)
    return {
        "frames": rows,
        "bytes": n,
        "dicomrle_gb_per_s": n / fast / 1e9,
        "fresh_gb_per_s": n / fresh / 1e9,
        "fresh_vs_packbits": pb / fresh,
        "scalar_gb_per_s": n / scalar / 1e9,
        "packbits_gb_per_s": n / pb / 1e9,
        "ratio_vs_packbits": pb / fast,
        "fast_vs_scalar": scalar / fast,
        "simd": _rle.SIMD,
    }


def fmt_mb(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def markdown(result: dict) -> str:
    lines = []
    corpus_summary = result["corpus"]
    plugins = [p for p in PLUGINS if p in corpus_summary["plugins"]]
    lines.append(f"Command: `{result['command']}`  ")
    lines.append(
        f"Machine: {result['machine']}, Python {result['python']}, pydicom "
        f"{result['versions'].get('pydicom')}, one core, best of "
        f"{result['repeats']} per image (pydicom's plugin: 1), fast path: "
        f"{result['kernel'].get('simd', '?')}."
    )
    lines.append("")
    lines.append(
        f"### Through pydicom's API: {corpus_summary['plugins']['dicomrle']['images']} "
        f"corpus images, {corpus_summary['plugins']['dicomrle']['bytes_in'] / 1e6:.1f} MB"
    )
    lines.append("")
    lines.append("| encoder | images | time (ms) | MB/s | dicomrle is faster by | output bytes | size / dicomrle |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for p in plugins:
        s = corpus_summary["plugins"][p]
        r = corpus_summary["ratios"].get(p)
        speed = f"{r['speedup']:.1f}x" if r else "-"
        size = f"{r['size_ratio']:.4f}" if r else "1"
        label = LABELS[p] + (" (padded)" if p == "gdcm" else "")
        lines.append(
            f"| {label} | {s['images']} | {s['seconds'] * 1e3:,.1f} | {fmt_mb(s['mb_per_s'])} | "
            f"{speed} | {s['bytes_out']:,} | {size} |"
        )
    sv = corpus_summary["size_vs_gdcm"]
    lines.append("")
    lines.append(
        f"Ratios are over the images both encoders ran. Size against GDCM: larger on "
        f"{len(sv['larger_than_gdcm'])} of {sv['images']} images; GDCM left out "
        f"{sv['gdcm_missing_pad_bytes']} pad bytes, counted back in above."
    )
    syn = result["synthetic"]
    lines.append("")
    lines.append("### Synthetic worst cases (MB/s through pydicom's API, output bytes)")
    lines.append("")
    lines.append("| image | " + " | ".join(LABELS[p] for p in plugins) + " | dicomrle bytes | GDCM padded bytes |")
    lines.append("|---|" + "---:|" * (len(plugins) + 2))
    for case in syn["cases"]:
        cells = []
        for p in plugins:
            t = case["times"].get(p)
            cells.append(fmt_mb(case["bytes"] / t / 1e6) if t else "-")
        lines.append(
            f"| {case['name']} | " + " | ".join(cells)
            + f" | {case['sizes'].get('dicomrle', 0):,} | {case['sizes'].get('gdcm', 0):,} |"
        )
    k = result["kernel"]
    if "frames" in k:
        lines.append("")
        lines.append(
            f"### C kernel on whole 16-bit CT/MR frames ({len(k['frames'])} frames, "
            f"{k['bytes'] / 1e6:.1f} MB)"
        )
        lines.append("")
        lines.append("| encoder | GB/s | dicomrle is faster by |")
        lines.append("|---|---:|---:|")
        lines.append(
            f"| dicomrle fast path ({k['simd']}, split included, buffers reused) | "
            f"{k['dicomrle_gb_per_s']:.2f} | 1x |"
        )
        lines.append(
            f"| dicomrle fast path, a fresh bytes object per frame | "
            f"{k['fresh_gb_per_s']:.2f} | {k['dicomrle_gb_per_s'] / k['fresh_gb_per_s']:.1f}x |"
        )
        lines.append(f"| dicomrle scalar reference (buffers reused) | {k['scalar_gb_per_s']:.2f} | {k['fast_vs_scalar']:.1f}x |")
        lines.append(
            f"| imagecodecs.packbits_encode (split not counted) | {k['packbits_gb_per_s']:.2f} | "
            f"{k['ratio_vs_packbits']:.1f}x |"
        )
    if result["notes"]:
        lines.append("")
        lines.append("Notes:")
        lines.append("")
        for note in sorted(set(result["notes"])):
            lines.append(f"- {note}")
    return "\n".join(lines) + "\n"


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("dicomrle", "pydicom", "pylibjpeg", "pylibjpeg-rle", "python-gdcm", "imagecodecs", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[-1]
        os.sched_setaffinity(0, {cpu})
        return f"cpu {cpu}"
    return "not pinned"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, pydicom's plugin on small images only")
    parser.add_argument("--repeats", type=int, default=None, help="best of N per image (default 5, quick 1)")
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    parser.add_argument("--markdown", type=Path, help="write the tables as Markdown")
    parser.add_argument("--plugins", default=",".join(PLUGINS), help="comma-separated subset")
    args = parser.parse_args(argv)

    pinned = pin_one_core()
    import dicomrle

    dicomrle.register()
    repeats = args.repeats or (1 if args.quick else 5)
    plugins = [p for p in args.plugins.split(",") if p]
    if "dicomrle" not in plugins:
        plugins.insert(0, "dicomrle")
    available = []
    encoder = rle_encoder()
    for p in plugins:
        if encoder.is_available and p in encoder._available:  # noqa: SLF001 - read only
            available.append(p)
        else:
            print(f"note: plugin {p!r} is not available, left out", file=sys.stderr)
    pydicom_limit = 300_000 if args.quick else None
    notes: list[str] = []
    if pydicom_limit:
        notes.append(f"--quick: pydicom's plugin only on images up to {pydicom_limit:,} bytes")

    t0 = time.perf_counter()
    cases = corpus_cases(quiet=True)
    run_cases(cases, available, repeats, pydicom_limit, notes)
    syn = synthetic_cases()
    run_cases(syn, available, repeats, None, notes)
    kernel = kernel_bench(3 if args.quick else 7)

    import dicomrle.codec.rle as _rle  # noqa: F401

    result = {
        "command": "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *sys.argv[1:]]),
        "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs, {pinned}".replace("  ", " "),
        "python": platform.python_version(),
        "versions": versions(),
        "repeats": repeats,
        "corpus": summarize(cases, available),
        "corpus_cases": [
            {"name": c.name, "bytes": c.nbytes, "times": c.times, "sizes": c.sizes,
             "gdcm_missing_pad": c.gdcm_missing_pad}
            for c in cases
        ],
        "synthetic": {
            "summary": summarize(syn, available),
            "cases": [{"name": c.name, "bytes": c.nbytes, "times": c.times, "sizes": c.sizes} for c in syn],
        },
        "kernel": kernel,
        "notes": notes,
        "seconds": None,
    }
    result["seconds"] = time.perf_counter() - t0
    text = markdown(result)
    print(text)
    print(f"(benchmark took {result['seconds']:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.markdown:
        args.markdown.write_text(
            "# Benchmark results\n\nMade by `benchmarks/compare.py`; rerun it to update.\n\n" + text
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
