"""What each RLE Lossless decoder does with each malformed frame.

Every variant of ``tests/support/malformed.py`` goes to every decoder, each run in a
child process of its own, so that a crash (a signal), a hang (20 s), a
Python exception, a ``BaseException`` such as pyo3's ``PanicException``, a
warning, wrong pixels and right pixels are told apart:

- pydicom 3's ``_rle_decode_frame``, and ``ds.pixel_array`` with
  ``decoding_plugin='pydicom'`` on a file wrapping the frame;
- pylibjpeg-rle's ``rle.utils.decode_frame``, and the 'pylibjpeg' plugin;
- python-gdcm's ``gdcm.ImageReader`` on the file (pydicom 3.0's 'gdcm'
  plugin does not take RLE Lossless);
- ``gdcmconv -w`` and DCMTK's ``dcmdrle`` on the file, the output read back
  with pydicom;
- ``imagecodecs.dicomrle_decode``;
- dicomrle, when ``dicomrle.codec.rle.decode`` exists.

The file wrapping a frame: one item of encapsulated Pixel Data, RLE
Lossless, Secondary Capture, MONOCHROME2 or RGB (Planar Configuration 1),
Pixel Representation 0.

    python benchmarks/survey/malformed_survey.py            # writes MALFORMED.md + json
    python benchmarks/survey/malformed_survey.py --only longer --decoders pydicom-frame
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import RLELossless, SecondaryCaptureImageStorage, generate_uid

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests"))
from support import malformed  # noqa: E402

TIMEOUT = 20.0

# The child: decode one frame or file with one decoder, save what came out,
# print one JSON line. Warnings and pydicom's log records are collected.
CHILD = r"""
import json, logging, sys, warnings
import numpy as np
name, frame_path, file_path, out_path = sys.argv[1:5]
rows, columns, samples, bits = map(int, sys.argv[5:9])
frame = open(frame_path, "rb").read()
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
handler = Keep(logging.WARNING)
logging.getLogger().addHandler(handler)
def plugin(which):
    import pydicom
    ds = pydicom.dcmread(file_path)
    ds.pixel_array_options(decoding_plugin=which)
    return ds.pixel_array
def run():
    if name == "pydicom-frame":
        from pydicom.pixels.decoders.rle import _rle_decode_frame
        return bytes(_rle_decode_frame(frame, rows, columns, samples, bits))
    if name == "pydicom":
        return plugin("pydicom")
    if name == "pylibjpeg-rle-frame":
        from rle.utils import decode_frame
        return bytes(decode_frame(frame, rows * columns, bits, "<"))
    if name == "pylibjpeg-rle":
        return plugin("pylibjpeg")
    if name == "python-gdcm":
        import gdcm
        reader = gdcm.ImageReader()
        reader.SetFileName(file_path)
        if not reader.Read():
            raise ValueError("gdcm.ImageReader cannot read the file")
        image = reader.GetImage()
        buffer = image.GetBuffer()
        if buffer is None:
            raise ValueError("gdcm.Image.GetBuffer() returned None")
        data = buffer.encode("utf-8", "surrogateescape")
        if image.GetPlanarConfiguration() or samples == 1:
            return data
        dtype = np.dtype(f"<u{bits // 8}")
        if len(data) != rows * columns * samples * dtype.itemsize:
            return data
        return np.frombuffer(data, dtype).reshape(rows, columns, samples)
    if name == "imagecodecs":
        import imagecodecs
        return bytes(imagecodecs.dicomrle_decode(frame, f"<u{bits // 8}"))
    if name == "dicomrle":
        from dicomrle.codec import rle as _rle
        return bytes(_rle.decode(_rle.Frame(rows, columns, samples, bits,
                                            byteorder="<",
                                            planar_configuration=1),
                                 frame))
    raise SystemExit(f"unknown decoder {name}")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        result = run()
    except BaseException as exc:
        kind = "exception" if isinstance(exc, Exception) else "base-exception"
        out = {"kind": kind, "type": type(exc).__name__, "message": str(exc)}
    else:
        if isinstance(result, bytes):
            with open(out_path, "wb") as f:
                f.write(result)
            out = {"kind": "ok", "form": "planar", "length": len(result)}
        else:
            np.save(out_path, np.asarray(result), allow_pickle=False)
            out = {"kind": "ok", "form": "array", "shape": list(np.shape(result))}
warned = [str(w.message) for w in caught]
out["warnings"] = warned + [r for r in records if r not in warned]
print("@@" + json.dumps(out))
"""

FRAME_DECODERS = ("pydicom-frame", "pylibjpeg-rle-frame", "imagecodecs", "dicomrle")
PLUGIN_DECODERS = ("pydicom", "pylibjpeg-rle", "python-gdcm")
TOOLS = {"gdcmconv": ["gdcmconv", "-w"], "dcmdrle": ["dcmdrle"]}
DECODERS = (
    "pydicom-frame",
    "pydicom",
    "pylibjpeg-rle-frame",
    "pylibjpeg-rle",
    "python-gdcm",
    "gdcmconv",
    "dcmdrle",
    "imagecodecs",
    "dicomrle",
)
LABELS = {
    "pydicom-frame": "pydicom `_rle_decode_frame`",
    "pydicom": "pydicom plugin 'pydicom'",
    "pylibjpeg-rle-frame": "pylibjpeg-rle `decode_frame`",
    "pylibjpeg-rle": "pydicom plugin 'pylibjpeg'",
    "python-gdcm": "python-gdcm `ImageReader`",
    "gdcmconv": "`gdcmconv -w`",
    "dcmdrle": "DCMTK `dcmdrle`",
    "imagecodecs": "imagecodecs `dicomrle_decode`",
    "dicomrle": "dicomrle `_rle.decode`",
}

# What PS3.5 (2024 editions) says about each case.
STANDARD = {
    "well-formed": "A control: a conformant frame (G.2-G.5).",
    "longer": "G.3.2: the decoder loops 'until the number of output bytes equals "
    "the uncompressed segment size', so bytes past the plane are never read; "
    "G.2: a Byte Segment has one byte per pixel, so a conformant encoder "
    "never writes them.",
    "shorter": "G.2, G.3.2: the segment must give a byte per pixel; the decoder "
    "loop cannot end.",
    "row-crossing": "G.3.1: 'Each row of the image shall be encoded separately "
    "and not cross a row boundary': an encoder rule; the G.3.2 decoder counts "
    "bytes per segment, not rows.",
    "noop-0x80": "G.3.1: 'The value of -128 may not be used to prefix a byte "
    "value' (encoder); G.3.2: n = -128 -> 'output nothing' (decoder).",
    "odd-unpadded": "G.3.1: 'Each RLE segment must be an even number of bytes or "
    "padded at its end with zero'; G.5: the offsets still say where each starts.",
    "trailing": "G.4: the segments follow the header and each other; nothing "
    "after the last one is described. A.4: an item is of even length.",
    "count-low": "G.2: one segment per byte of the Padded Composite Pixel Code "
    "(samples x bytes); G.5: the header holds the number of segments.",
    "count-high": "as count-low (G.2, G.5).",
    "count-zero": "as count-low (G.2, G.5).",
    "count-16": "G.5: the header is 16 long words, so 'up to 15 RLE Segments'.",
    "offset-past-end": "G.5: offsets are byte offsets from the start of the "
    "header into the frame.",
    "offset-below-64": "G.5: 'the offset of RLE Segment One is 64'.",
    "offset-out-of-order": "G.4: 'the remaining RLE Segments immediately follow "
    "each other', in the order of G.2.",
    "offset-equal": "G.4: each segment follows the previous one; G.3: an RLE "
    "segment of 0 bytes cannot hold a plane.",
    "truncated-header": "G.5: 'The RLE Header is 16 long words in length' (64 bytes).",
    "truncated-segment": "G.3.2: the segment must give a byte per pixel.",
    "literal-past-end": "G.3.2: a literal run outputs 'the next n+1 bytes': they "
    "must be in the segment.",
    "literal-past-plane": "G.3.2: the decoder loops 'until the number of output "
    "bytes equals the uncompressed segment size': the plane is full before the "
    "missing bytes would be output.",
    "unused-offset-nonzero": "G.5: 'All unused segments offsets shall be set to "
    "zero' (a writer's rule; the count says which are used).",
    "gdcm-padded": "G.3.1 (pad byte missing) and G.3.2 (bytes past the plane); "
    "PS3.5 8.1.1: padding of Pixel Data 'shall not be considered significant'.",
    "gdcm-MR_small_padded": "as gdcm-padded.",
}


# What the table shows, read by hand (with the versions it names).
NOTES = [
    "Notes (from this run's JSON, details there):",
    "",
    "- `gdcm-MR_small_padded`: MR_small_padded.dcm's Pixel Data is 8320 bytes for "
    "a 64x64 16-bit image (128 bytes of padding). GDCM 3.0.21's `gdcmconv --rle` "
    "takes the row length from the Pixel Data length (65 pixels) but reads rows "
    "at the true stride (64), so each encoded row is the row plus the next row's "
    "first pixel: both segments decode to 64x65 = 4160 bytes, 64 past the plane. "
    "Segment 1 is 1939 bytes, odd, with no pad byte (segment 2 starts at offset "
    "2003); segment 2 ends in the item's 0x00 pad. 'right pixels' here is the "
    "policy's answer (the first 4096 bytes of each segment), which is not the "
    "image: it matches MR_small_padded's pixels on only the first row and a "
    "few more (see the variant's note below); no decoder can know. pylibjpeg-rle "
    "panics (index 8192 of its 8192-byte output); GDCM cannot decode "
    "its own output; DCMTK and pydicom decode it to the same (wrong) image, "
    "pydicom with a warning. `gdcm-padded` is the same pattern made from "
    "MR_small.dcm by tests/support/malformed.py.",
    "- DCMTK 3.6.7 reads the byte 0x80 as a replicate run of 129 (`noop-0x80`: "
    "wrong pixels, no message).",
    "- python-gdcm and gdcmconv die of SIGFPE on a header count of 0; pylibjpeg-"
    "rle ignores the count when it is 0 or 16 and decodes by the offsets.",
    "- pylibjpeg-rle raises PanicException (a BaseException: `except Exception` "
    "does not catch it) when a 16-bit segment decodes past its plane; for 8-bit "
    "it raises ValueError (3 segments) or accepts (1 segment).",
    "- pydicom (both paths) accepts what the policy accepts, with a UserWarning "
    "when a segment decodes long; it reads a first offset of 48 (inside the "
    "header) as given and returns wrong pixels with only that warning.",
    "- DCMTK and GDCM turn a short segment into wrong pixels in some cases "
    "(DCMTK with a 'W:' line on stderr and exit 0). imagecodecs does not take "
    "the frame size: it returns what the segments decode to, so 'wrong size' "
    "means it returned more or fewer bytes than the frame; it rejects "
    "`trailing`.",
    "- python-gdcm 3.2.6 decodes no RLE frame of fewer than 64 pixel bytes "
    "(GetBuffer() returns None even for a well-formed 4x6 frame), which is why "
    "`hand8` is 4x16.",
]


@dataclass
class Outcome:
    kind: str  # ok, exception, base-exception, signal, hang, exit, tool-error
    verdict: str  # the short text of the table
    detail: str  # the long text of the JSON
    meets_policy: bool


def wrap(v: malformed.Variant, path: Path) -> None:
    """Write a single-frame RLE Lossless file holding `v`'s frame as is."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = RLELossless
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    ds.PatientName = "malformed^survey"
    ds.PatientID = "malformed"
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Rows, ds.Columns = v.rows, v.columns
    ds.SamplesPerPixel = v.samples
    ds.PhotometricInterpretation = "RGB" if v.samples == 3 else "MONOCHROME2"
    if v.samples > 1:
        ds.PlanarConfiguration = 1
    ds.BitsAllocated = v.bits
    ds.BitsStored = v.bits
    ds.HighBit = v.bits - 1
    ds.PixelRepresentation = 0
    ds.PixelData = encapsulate([v.frame])
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)


def _short(text: str, limit: int = 80) -> str:
    # pydicom's "Unable to decode as exceptions were raised by all available
    # plugins:" is followed by the plugin's own message: keep that.
    head, _, rest = text.partition("available plugins:")
    if rest:
        text = head.split(":")[0] + ": " + rest.strip().split(": ", 1)[-1]
    text = " ".join(text.split())
    text = re.sub(r"/\S+/", "", text)  # paths
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _compare(v: malformed.Variant, got: np.ndarray | bytes, base: np.ndarray) -> str:
    """'right', 'base' (the well-formed frame's pixels), 'wrong ...'."""
    want = v.pixels if v.pixels is not None else base
    size = v.bits // 8
    if isinstance(got, bytes):
        planar = np.ascontiguousarray(want.transpose(2, 0, 1).astype(f"<u{size}"))
        if len(got) != planar.nbytes:
            return f"wrong size: {len(got)} bytes, not {planar.nbytes}"
        arr = np.frombuffer(got, f"<u{size}").reshape(planar.shape).transpose(1, 2, 0)
    else:
        if got.size != want.size:
            return f"wrong shape {got.shape}"
        arr = got.view(f"u{got.dtype.itemsize}").reshape(want.shape)
    if np.array_equal(arr, want):
        return "right" if v.pixels is not None else "base"
    differ = int(np.count_nonzero(arr != want))
    return f"wrong pixels ({differ} of {want.size} samples differ)"


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _judge_pixels(
    v: malformed.Variant, match: str, warned: list[str], how: str = "accepts"
) -> Outcome:
    note = f" + warning: {_short(warned[0], 60)}" if warned else ""
    if match == "right":
        verdict = f"{how}, right pixels{note}"
        return Outcome("ok", verdict, verdict, v.accept)
    if match == "base":
        verdict = f"{how}, pixels of the well-formed frame{note}"
        return Outcome("ok", verdict, verdict, False)
    verdict = f"{match}{note}"
    return Outcome("ok", verdict, verdict, False)


def run_python(
    name: str, v: malformed.Variant, work: Path, base: np.ndarray
) -> Outcome:
    frame_path, file_path = work / "frame.rle", work / "frame.dcm"
    out_path = work / f"{name}.out"
    out_path.unlink(missing_ok=True)
    out_path.with_suffix(".out.npy").unlink(missing_ok=True)
    args = [str(x) for x in (v.rows, v.columns, v.samples, v.bits)]
    cmd = [
        sys.executable,
        "-c",
        CHILD,
        name,
        str(frame_path),
        str(file_path),
        str(out_path),
        *args,
    ]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            start_new_session=True,
            errors="replace",
        )
    except subprocess.TimeoutExpired:
        return Outcome("hang", f"hang (> {TIMEOUT:.0f} s)", "killed", False)
    if proc.returncode < 0:
        sig = _signal_name(proc.returncode)
        return Outcome("signal", sig, proc.stderr[-500:], False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@")]
    if not lines:
        detail = f"exit {proc.returncode}: {proc.stderr[-500:]}"
        return Outcome("exit", f"exit {proc.returncode}", detail, False)
    out = json.loads(lines[-1][2:])
    warned = out["warnings"]
    err = proc.stderr.strip()
    if err:  # GDCM reports on stderr
        warned = [*warned, "stderr: " + err.splitlines()[0]]
    if out["kind"] != "ok":
        text = f"{out['type']}: {out['message']}"
        detail = text + (f" | stderr: {err[-1000:]}" if err else "")
        if out["kind"] == "base-exception":
            return Outcome("base-exception", _short(text), detail, False)
        return Outcome("exception", "error: " + _short(text), detail, not v.accept)
    if out["form"] == "planar":
        got: np.ndarray | bytes = out_path.read_bytes()
    else:
        got = np.load(out_path.with_suffix(".out.npy"), allow_pickle=False)
    outcome = _judge_pixels(v, _compare(v, got, base), warned)
    outcome.detail += "" if not warned else " | " + " | ".join(warned)
    return outcome


def run_tool(name: str, v: malformed.Variant, work: Path, base: np.ndarray) -> Outcome:
    out_path = work / f"{name}.dcm"
    out_path.unlink(missing_ok=True)
    cmd = [*TOOLS[name], str(work / "frame.dcm"), str(out_path)]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            start_new_session=True,
            errors="replace",
        )
    except subprocess.TimeoutExpired:
        return Outcome("hang", f"hang (> {TIMEOUT:.0f} s)", "killed", False)
    err = proc.stderr.strip()
    if proc.returncode < 0:
        return Outcome("signal", _signal_name(proc.returncode), err[-500:], False)
    if proc.returncode or not out_path.exists() or out_path.stat().st_size == 0:
        first = err.splitlines()[0] if err else "(no message)"
        verdict = f"error (exit {proc.returncode}): {_short(first, 60)}"
        return Outcome("tool-error", verdict, err[-1000:], not v.accept)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            got = pydicom.dcmread(out_path).pixel_array
        except Exception as exc:  # noqa: BLE001 - whatever the tool wrote
            text = f"output unreadable: {type(exc).__name__}: {exc}"
            return Outcome("tool-error", _short(text), text, False)
    warned = [str(w.message) for w in caught]
    if err:
        warned = [err.splitlines()[0], *warned]
    outcome = _judge_pixels(v, _compare(v, got, base), warned)
    outcome.detail += "" if not err else " | stderr: " + err[-1000:]
    return outcome


def available() -> dict[str, str]:
    """Each decoder's version, or why it is left out."""
    out = {}

    def version(module: str) -> str | None:
        try:
            mod = __import__(module)
        except ImportError:
            return None
        return str(getattr(mod, "__version__", "?"))

    out["pydicom-frame"] = out["pydicom"] = f"pydicom {pydicom.__version__}"
    rle = version("rle")
    out["pylibjpeg-rle-frame"] = f"pylibjpeg-rle {rle}" if rle else ""
    out["pylibjpeg-rle"] = out["pylibjpeg-rle-frame"]
    try:
        import gdcm

        out["python-gdcm"] = f"python-gdcm {gdcm.Version.GetVersion()}"
    except ImportError:
        out["python-gdcm"] = ""
    ic = version("imagecodecs")
    out["imagecodecs"] = f"imagecodecs {ic}" if ic else ""
    for tool in TOOLS:
        path = shutil.which(tool)
        if path is None:
            out[tool] = ""
            continue
        flag = "--version"
        text = subprocess.run([path, flag], capture_output=True, text=True).stdout
        out[tool] = " ".join(text.split()[:4])
    try:
        from dicomrle.codec import rle as _rle

        out["dicomrle"] = "dicomrle (source tree)" if hasattr(_rle, "decode") else ""
    except ImportError:
        out["dicomrle"] = ""
    return out


def gdcm_mr_small_padded(work: Path) -> malformed.Variant | None:
    """The frame ``gdcmconv --rle`` makes of pydicom's MR_small_padded.dcm."""
    if shutil.which("gdcmconv") is None:
        return None
    from pydicom.encaps import generate_frames

    from support.corpus import find

    src = find("MR_small_padded.dcm")
    out = work / "MR_small_padded_gdcm_rle.dcm"
    subprocess.run(
        ["gdcmconv", "--rle", str(src), str(out)], check=True, capture_output=True
    )
    ds = pydicom.dcmread(out)
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    data, _ = malformed.reference_decode(frame, 64, 64, 1, 16)
    pixels = np.frombuffer(data, "<u2").reshape(64, 64, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 128 bytes of padding: the point
        image = pydicom.dcmread(src).pixel_array.view("u2").reshape(64, 64, 1)
    same = int(np.count_nonzero(pixels == image))
    offsets = malformed.offsets_of(frame)
    ends = [*offsets[1:], len(frame)]
    lengths = [b - a for a, b in zip(offsets, ends, strict=True)]
    note = (
        f"gdcmconv --rle of MR_small_padded.dcm: offsets {offsets}, segment "
        f"lengths {lengths}, frame {len(frame)} bytes; the policy's pixels (first "
        f"4096 bytes of each segment) match the image at {same} of 4096 pixels"
    )
    return malformed.Variant(
        "gdcm-MR_small_padded",
        "MR_small_padded",
        frame,
        64,
        64,
        1,
        16,
        True,
        pixels.copy(),
        None,
        True,
        note,
    )


def _cell(outcomes: dict[str, Outcome]) -> str:
    """One cell for all bases of a malformation: one verdict if they agree
    once numbers are set aside, else each base's."""

    def norm(text: str) -> str:
        return re.sub(r"\d+", "N", text)

    verdicts = {base: o.verdict for base, o in outcomes.items()}
    shapes = {norm(t) for t in verdicts.values()}
    mark = "" if all(o.meets_policy for o in outcomes.values()) else " ✗"
    if len(shapes) == 1:
        text = next(iter(verdicts.values())) if len(verdicts) == 1 else shapes.pop()
        return (text + mark).replace("|", "\\|")
    return ("; ".join(f"{b}: {t}" for b, t in verdicts.items()) + mark).replace(
        "|", "\\|"
    )


def policy_text(v: malformed.Variant) -> str:
    if v.accept:
        return "accept" + (", extra ignored" if v.extra else "")
    return f"reject ({v.error})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="malformation names")
    parser.add_argument("--decoders", nargs="*", help="decoder names")
    parser.add_argument("--markdown", default=str(HERE / "MALFORMED.md"))
    parser.add_argument("--json", default=str(HERE / "malformed.json"))
    args = parser.parse_args()

    versions = available()
    decoders = [d for d in (args.decoders or DECODERS) if versions.get(d)]
    results: dict[str, dict[str, dict[str, Outcome]]] = {}
    variants_seen: dict[str, malformed.Variant] = {}
    bases = {f.name: f.pixels for f in malformed.frames()}
    with tempfile.TemporaryDirectory(prefix="malformed-") as tmp:
        work = Path(tmp)
        extra = gdcm_mr_small_padded(work)
        todo = list(malformed.variants()) + ([extra] if extra else [])
        if extra:
            bases[extra.base] = extra.pixels
        for v in todo:
            if args.only and v.name not in args.only:
                continue
            variants_seen.setdefault(v.name, v)
            (work / "frame.rle").write_bytes(v.frame)
            wrap(v, work / "frame.dcm")
            for name in decoders:
                runner = run_tool if name in TOOLS else run_python
                outcome = runner(name, v, work, bases[v.base])
                results.setdefault(v.name, {}).setdefault(name, {})[v.base] = outcome
                print(f"{v.id:36} {name:20} {outcome.verdict}", flush=True)

    write_json(Path(args.json), results, versions, decoders)
    write_markdown(Path(args.markdown), results, variants_seen, versions, decoders)


def write_json(path: Path, results, versions, decoders) -> None:
    data = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "versions": {d: versions[d] for d in decoders},
        "timeout_s": TIMEOUT,
        "results": {
            name: {
                dec: {
                    base: {
                        "kind": o.kind,
                        "verdict": o.verdict,
                        "detail": o.detail,
                        "meets_policy": o.meets_policy,
                    }
                    for base, o in per_base.items()
                }
                for dec, per_base in per_dec.items()
            }
            for name, per_dec in results.items()
        },
    }
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def write_markdown(path: Path, results, variants_seen, versions, decoders) -> None:
    cmd = "python benchmarks/survey/malformed_survey.py"
    lines = [
        "# Malformed RLE Lossless frames: what each decoder does",
        "",
        f"Made by `{cmd}` from the variants of `tests/support/malformed.py`; every decoder "
        f"ran in a child process of its own (timeout {TIMEOUT:.0f} s). Bases: "
        "`grey16` (MR_small.dcm, 64x64, 2 segments), `rgb8` (SC_rgb.dcm, 100x100, "
        "3 segments), `hand8` (4x16 8-bit grey, 1 segment written by hand), and for "
        "`gdcm-MR_small_padded` the frame `gdcmconv --rle` makes of pydicom's "
        "MR_small_padded.dcm. A cell gives one verdict when all bases agree (numbers "
        "shown as N), else one per base. ✗ marks a cell that departs from our policy "
        "(a crash, a hang, a panic, wrong pixels, or an accept/reject the policy does "
        "not give). 'pixels of the well-formed frame' means the decoder accepted a "
        "frame the policy rejects and still gave the original pixels.",
        "",
        "Versions: "
        + "; ".join(f"{LABELS[d]}: {versions[d]}" for d in decoders)
        + f"; Python {platform.python_version()}.",
        "",
    ]
    head = ["malformation", "policy", *(LABELS[d] for d in decoders)]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for name, per_dec in results.items():
        v = variants_seen[name]
        row = [f"`{name}`", policy_text(v)]
        row += [_cell(per_dec[d]) if d in per_dec else "" for d in decoders]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", *NOTES]
    lines += ["", "## Meets our policy (variants, all bases)", ""]
    lines.append("| decoder | as policy | departs | of which crash/hang/panic |")
    lines.append("|---|---|---|---|")
    for d in decoders:
        cells = [o for per_dec in results.values() for o in per_dec.get(d, {}).values()]
        bad = [o for o in cells if not o.meets_policy]
        hard = [
            o for o in bad if o.kind in ("signal", "hang", "base-exception", "exit")
        ]
        lines.append(
            f"| {LABELS[d]} | {len(cells) - len(bad)} | {len(bad)} | {len(hard)} |"
        )
    lines += ["", "## The malformations and what PS3.5 says", ""]
    lines.append("| malformation | made how | PS3.5 says |")
    lines.append("|---|---|---|")
    for name, v in variants_seen.items():
        lines.append(f"| `{name}` | {v.note} | {STANDARD.get(name, '')} |")
    lines.append("")
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
