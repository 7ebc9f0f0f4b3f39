"""The DICOM file layer: the walker, encapsulation, fragments, the Implicit
VR table, dataset compress/decompress and the file routes."""
