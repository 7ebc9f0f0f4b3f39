"""The codec layer: the binding of the C RLE kernels, frame and array
encode/decode, and the one thread/job planner. Nothing here knows DICOM
files or pydicom."""
