"""cakupan: find, enrol, keep and measure BPU (informal worker) participants of BPJS Ketenagakerjaan."""

__version__ = "0.1.0"
