"""Example figures shipped with cakupan (``cakupan targets load-examples``).

- ``palembang_2016_2020.csv``: Palembang branch (001, Agustini & Putra 2022) target and
  realization of new participants per segment, as the paper's text states them and as its Table 1
  states them (two sources; they disagree on BPU 2017 and 2018 and PU 2016 realization).
- ``madiun_bandar_lampung.csv``: Madiun active BPU participants 2016-2020 (002, Table 2) and
  Bandar Lampung BPU registrations 2021 and January-July 2022 (000).
"""

from pathlib import Path

_HERE = Path(__file__).parent

EXAMPLE_FILES = (_HERE / "palembang_2016_2020.csv", _HERE / "madiun_bandar_lampung.csv")

__all__ = ["EXAMPLE_FILES"]
