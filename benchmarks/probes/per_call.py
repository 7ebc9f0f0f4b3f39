"""The cost of one call: encode_frame and decode_frame of a 64x64 16-bit
frame (a ramp and noise), best of 25 runs of 2,000 calls.

    python benchmarks/probes/per_call.py
"""

import timeit

import numpy as np

import dicomrle

KW = dict(rows=64, columns=64, samples_per_pixel=1, bits_allocated=16)
FRAMES = {
    "ramp": (np.arange(64 * 64, dtype=np.uint16) * 7 % 1000).reshape(64, 64),
    "noise": np.random.default_rng(0).integers(0, 4096, (64, 64), dtype=np.uint16),
}


def best(call, number=2000, repeat=25):
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number


for name, pixels in FRAMES.items():
    encoded = dicomrle.encode_frame(pixels, **KW)
    encode = best(lambda: dicomrle.encode_frame(pixels, **KW))
    decode = best(lambda: dicomrle.decode_frame(encoded, **KW))
    print(f"{name}: encode_frame {encode * 1e6:.2f} us, decode_frame {decode * 1e6:.2f} us")
