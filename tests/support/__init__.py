"""Helpers the test files share: the corpus, independent decoders, the
malformed-frame variants, a memory limit, a reference PackBits encoder, the
kernel benchmarks' images and the command-line runner. Imported as
``from support import corpus`` (see ``tests/conftest.py``)."""
